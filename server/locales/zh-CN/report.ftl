# 巡店报告页面（简体中文）（GET /v1/inspections/{id}/report）。

report-title = 巡店报告：{ $store }
report-heading = 巡店报告
report-store = 门店：
report-checklist = 检查表：
report-supervisor = 督导：
report-visit = 巡店时间：
report-visit-span = { $from } 至 { $to }
report-not-checked-out = （未签退）
report-inspection = 巡店编号：
report-verdict = 结论：
report-scored = 评分时间 { $at }，评分规则版本 { $version }，巡店版本 { $heads }。
report-checklist-heading = 检查项
report-photos-heading = 照片
report-item = 检查项
report-points = 得分
report-why = 原因
report-photo = 照片
report-quality = 质量
report-evidence = 证据
report-photo-alt = 照片 { $photo }
report-no-thumbnail = （无缩略图）
report-trust-pass = 可信
report-trust-review = 待复核
report-trust-rejected = 不予采信
