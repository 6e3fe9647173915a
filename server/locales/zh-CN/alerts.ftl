# 仅由服务器显示的预警文本（简体中文）。收件箱预警的标题与详情（alert-…）在
# core/locales/zh-CN/core.ftl 中：手机也通过核心目录显示它们。
