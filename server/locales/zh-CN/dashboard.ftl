# 总部管理后台文本（简体中文）。id 按页面分组：nav-、login-、orders- ……
# 带参数的文本写作 `{ $name }`，参数名与英文文件相同。

## 页面框架：品牌、导航、页头、角色、状态

brand = FieldSync 总部
nav-overview = 概览
nav-orders = 订单
nav-approvals = 审批
nav-out-of-office = 外出代理
nav-policy = 审批规则
nav-api-keys = API 密钥
nav-inspections = 巡店
nav-alerts = 预警
nav-stores = 门店
nav-devices = 设备
nav-webhooks = Webhook 订阅
nav-users = 用户
nav-store-admin = 门店管理
nav-templates = 检查模板
nav-imports = 数据导入
nav-settings = 租户设置
header-who = { $user }（{ $role }）
header-language = 语言
header-language-save = 切换
header-log-out = 退出登录
dialog-close = 关闭
dialog-photo = 照片
live-connected = 实时
live-reconnecting = 正在重连

role-hq = 总部
role-manager = 区域经理
role-supervisor = 督导
role-rep = 业务员

status-draft = 草稿
status-submitted = 已提交
status-needs-approval = 待审批
status-approved = 已通过
status-rejected = 已驳回
inspection-status-open = 进行中
inspection-status-checked-out = 已离店
trust-pass = 通过
trust-review = 待复核
trust-rejected = 不通过
severity-info = 提示
severity-warning = 警告
severity-error = 错误

## 筛选与列表

filter-search = 搜索
filter-status = 状态
filter-store = 门店
filter-any = 全部
filter-from = 开始日期
filter-to = 结束日期
filter-apply = 筛选
filter-export-csv = 导出 CSV
orders-export-lines = 导出订单行（CSV）
list-times-in = 。时间按 { $zone } 显示。
list-first-page = 返回第一页
list-comma = ，

## 错误与 404 页面

section-overview = 概览
section-orders = 订单
section-inspections = 巡店
section-devices = 设备
section-stores = 门店
section-alerts = 预警
error-section = { $section }仅对总部和区域经理开放，{ $role }无法打开此页面
error-admin = 管理页面仅供总部使用；{ $role }无法打开此页面
error-rep = 业务员请使用 FieldSync 手机应用；管理后台供总部、区域经理和督导使用
error-csrf = 表单安全令牌缺失或有误，请刷新页面后重试
error-forbidden-title = 无权访问
error-internal-title = 出错了
error-internal-text = 内部错误，详情请查看服务器日志
error-not-found-title = 未找到
error-refused-title = 无法执行此操作
error-back = 返回概览
not-found-title = 页面不存在
not-found-text-before = 管理后台没有这个页面：
not-found-text-after = 。

## 登录

login-sign-in = 登录
login-note = 供总部、区域经理和督导使用。业务员请使用手机应用。
login-company = 公司
login-username = 用户名
login-password = 密码
login-incomplete = 表单填写不完整，请重试
login-expired = 登录表单已过期，请重新登录
login-wrong = 公司、用户名或密码错误
login-rate-limited = 登录失败次数过多，请 { $seconds } 秒后再试

## 时间与图表

time-just-now = 刚刚
time-minutes-ago = { $minutes } 分钟前
time-hours-ago = { $hours } 小时前
time-days-ago = { $days } 天前
time-duration-minutes = { $minutes } 分钟
time-duration-hours = { $hours } 小时 { $minutes } 分钟
time-duration-days = { $days } 天 { $hours } 小时

chart-empty = { $chart }：暂无数据。
chart-orders-title = 每日提交订单数（最近 { $days } 天）
chart-orders-x = 日期（{ $zone }）
chart-orders-y = 订单数
chart-orders-bar = { $day }：{ $count } 张订单
chart-scores-title = 巡店得分分布（每 10 分一档），{ $what }（已评分 { $scored } 次）
chart-scores-x = 得分
chart-scores-y = 巡店次数
chart-scores-bar = 得分 { $low } 至 { $high }：{ $count } 次巡店
chart-approval-title = 需审批订单从提交到决定的用时（已决定 { $decided } 张）
chart-approval-x = 从提交到决定的用时
chart-approval-y = 订单数
chart-approval-bar = 决定用时 { $bucket }：{ $count } 张订单
chart-approval-under-1h = 1 小时以内
chart-approval-1-4h = 1–4 小时
chart-approval-4-8h = 4–8 小时
chart-approval-8-24h = 8–24 小时
chart-approval-1-2d = 1–2 天
chart-approval-2-7d = 2–7 天
chart-approval-over-7d = 7 天及以上

## 概览

overview-title = 概览
overview-note = 时间按 { $zone } 显示；金额单位为 { $currency }。今天从 { $today } 开始。
overview-kpi-orders-today = 今日订单
overview-kpi-value-today = 今日金额
overview-kpi-approvals = 待审批，其中 { $waiting } 张等您处理
overview-kpi-inspections = 巡店次数（{ $days } 天）
overview-kpi-score = 平均得分（已评分 { $scored } 次）
overview-kpi-approval-time = 审批用时中位数（已决定 { $decided } 张，{ $days } 天）
overview-kpi-coverage = 门店覆盖率：{ $stores } 家中已巡 { $visited } 家（{ $days } 天）
overview-kpi-alerts = 未处理预警
overview-orders-per-day = 每日订单
overview-latest-orders = 最新订单
overview-all-orders = 全部订单
overview-scores = 巡店得分（{ $days } 天）
overview-last-days = 最近 { $days } 天
overview-approval-times = 审批用时（{ $days } 天）
overview-open-alerts = 未处理预警
overview-alerts-shown = （显示 { $shown } 条，共 { $total } 条）
overview-work-through = 去处理

## 订单列表

orders-title = 订单
orders-search-placeholder = 单号、门店、业务员、商品
orders-sort = 排序
orders-sort-newest = 最新
orders-sort-oldest = 最早
orders-sort-largest = 金额最大
orders-waiting-anyone = 任何人
orders-waiting-me = 我
orders-summary = 共 { $count } 张订单，合计 { $total }
orders-summary-window = （最近 { $days } 天；清空日期可查看全部订单）
orders-next = 后 { $count } 张订单
orders-approval-times = 这些订单的审批用时
orders-col-order = 订单
orders-col-when = 时间
orders-col-store = 门店
orders-col-rep = 业务员
orders-col-status = 状态
orders-col-waiting-on = 待处理人
orders-col-lines = 行数
orders-col-value = 金额
orders-empty = 没有符合条件的订单。
orders-not-reviewed = 尚未审核

## 订单详情

order-title = 订单
order-heading = 订单 { $number }（{ $store }）
order-heading-unnumbered = { $store } 的订单
order-rep = 业务员
order-created = 创建于 { $at }
order-submitted = 提交于 { $at }
order-not-submitted = 未提交
order-submission = 第 { $submission } 次提交
order-status = 状态
order-notes = 备注：
order-lines = 订单明细
order-col-sku = 商品编码
order-col-qty = 数量
order-col-unit-price = 单价
order-col-discount = 折扣
order-col-total = 合计
order-review = 审核
order-not-reviewed = 系统尚未审核此订单。
order-outcome = 审核结果
order-outcome-details = 第 { $submission } 次提交 · 审核于 { $reviewed } · 核定金额 { $total }
order-col-severity = 级别
order-col-finding = 审核发现
order-col-code = 代码
order-no-findings = 没有审核发现。
order-approval-steps = 审批步骤
order-col-approver = 审批人
order-col-rule = 规则
order-col-state = 状态
order-col-decided = 决定时间
order-col-reason = 理由
order-no-approval = 无需审批。
order-on-behalf-of = 代 { $user } 审批
order-escalated = 已于 { $at } 升级：
order-due = 截止 { $at }
order-your-decision = 您的决定
order-step-waits = 第 { $step } 步等待您审批。
order-approve = 通过
order-reject-reason = 理由（驳回时必填，业务员可以看到）
order-reject = 驳回
order-decided-approved = 已记录您的决定：订单已通过。
order-decided-rejected = 已记录您的决定：订单已驳回。
order-decided-next-step = 已记录您的审批：下一步等待其审批人处理。

## 审批队列与报表

approvals-title = 审批
approvals-heading = 待我审批
approvals-summary = { $count } 张订单等待您的决定
approvals-overdue = { $count } 张已超时
approvals-summary-order = 。按截止时间先后排列；时间按 { $zone } 显示。
approvals-empty = 暂无待您审批的订单。
approvals-col-step = 步骤
approvals-col-submitted = 提交时间
approvals-col-due = 截止时间
approvals-col-time-left = 剩余时间
approvals-no-deadline = 无截止时间
approvals-overdue-by = 已超时 { $time }
approvals-time-left = 剩余 { $time }
approvals-approve-selected = 批量通过所选订单
approvals-bulk-approved = { $total } 张中已通过 { $approved } 张。
approvals-bulk-ok = { $number }：已通过
approvals-bulk-next-step = { $number }：已通过，下一步等待其审批人处理
approvals-bulk-refused = { $order }：未通过：{ $reason }

approval-report-title = 审批时间花在哪里
report-note = 最近 { $days } 天内开始等待的审批步骤（您的权限范围内）。
report-days = { $days } 天
report-median-per-day = 每日决定用时中位数
report-by-step = 按步骤
report-by-approver = 按审批人
report-by-rule = 按规则
report-col-step = 步骤
report-col-approver = 审批人
report-col-rule = 规则
report-col-steps = 步骤数
report-col-decided = 已决定
report-col-median = 中位数
report-col-overdue = 超时
report-col-escalated = 已升级
report-chart-title = 每日审批步骤决定用时中位数（最近 { $days } 天）
report-chart-x = 决定日期
report-chart-y = 分钟
report-chart-bar = { $day }：决定用时中位数 { $minutes } 分钟

## 外出代理

ooo-title = 外出代理
ooo-current-before = 分配给您的审批步骤将转给{" "}
ooo-current-after = {" "}处理，时间从 { $from } 到 { $until }。
ooo-current-after-now = {" "}处理，时间从 { $from } 到 { $until }（生效中）。
ooo-not-away = 您当前没有设置外出。
ooo-delegate = 代理人
ooo-from = 从
ooo-to = 到
ooo-set = 设置
ooo-end = 结束
ooo-note = 日期按 { $zone } 计算，首尾两天都包含在内。区域经理可委托区域经理或总部，总部只能委托总部；形成回到您本人的委托链会被拒绝。
ooo-done-back = 欢迎回来：审批步骤将重新分配给您。
ooo-done-set = 已设置外出代理。

## 审批规则

policy-title = 审批规则
policy-hq-only = 只有总部可以编辑审批规则
policy-note = 已发布版本 { $version }。已分配审批路线的订单沿用其分配时的版本。
policy-check = 检查并模拟
policy-publish = 发布
policy-no-errors = 没有错误。
policy-what-if = 模拟：按草稿重新分配最近 { $days } 天的订单
policy-what-if-summary = 共 { $orders } 张订单，其中 { $changed } 张路线改变；自动通过：当前 { $now } 张，按草稿 { $draft } 张。
policy-col-route = 路线
policy-col-now = 当前
policy-col-draft = 草稿
policy-col-steps-now = 当前步骤数
policy-col-with-draft = 按草稿
policy-col-added = 增加
policy-published = 已发布为版本 { $version }。

## API 密钥

keys-title = API 密钥
keys-copy-now = 请立即复制密钥：它只显示这一次。
keys-name = 名称
keys-create = 创建密钥
keys-col-key = 密钥
keys-col-scopes = 权限范围
keys-col-created = 创建时间
keys-col-last-used = 最近使用
keys-col-uses = 使用次数
keys-never = 从未使用
keys-revoked-at = 已于 { $at } 吊销
keys-revoke = 吊销
keys-note = 集成系统以 Authorization: Bearer fsk_… 发送密钥，只能访问其权限范围内的接口。密钥吊销后，下一次请求即被拒绝。
keys-done-created = 已创建密钥 { $name }，权限：{ $scopes }。
keys-done-revoked = 已吊销密钥 { $name }。

## 巡店列表

inspections-title = 巡店
inspections-search-placeholder = 门店、督导
inspections-score-from = 得分从
inspections-score-to = 到
inspections-summary = 共 { $count } 次巡店，已评分 { $scored } 次
inspections-summary-average = ，平均得分 { $average }
inspections-summary-window = （最近 { $days } 天；清空日期可查看全部巡店）
inspections-col-checked-in = 到店时间
inspections-col-store = 门店
inspections-col-supervisor = 督导
inspections-col-status = 状态
inspections-col-answers = 答题数
inspections-col-photos = 照片数
inspections-col-score = 得分
inspections-col-verdicts = 照片判定
inspections-empty = 没有符合条件的巡店记录。
inspections-verdicts = 通过 { $pass } · 待复核 { $review } · 不通过 { $rejected }
inspections-next = 后 { $count } 次巡店
inspections-score-distribution = 得分分布
inspections-above = 以上巡店

## 巡店详情

inspection-title = 巡店
inspection-heading = { $store } 巡店记录
inspection-supervisor = 督导
inspection-template = 检查模板
inspection-template-unknown = 未知
inspection-check-in = 到店 { $at }，位置 { $place }
inspection-check-out = 离店 { $at }，位置 { $place }
inspection-rounded = 根据您的角色，坐标已做模糊处理。
inspection-photos = 照片
inspection-no-photos = 没有照片。
inspection-photo-for = { $item } 的照片
inspection-answers = 检查项
inspection-col-item = 检查项
inspection-col-answer = 回答
inspection-col-count = 数量
inspection-col-note = 备注
inspection-col-answered = 回答时间
inspection-answer-yes = 是
inspection-answer-no = 否
inspection-answer-na = 不适用
inspection-not-answered = 未回答
inspection-score = 得分
inspection-not-scored = 尚未评分：离店且照片上传完成后，系统才会为巡店评分。
inspection-scoring-version = （评分规则版本 { $version }，{ $at }）
inspection-verdict = 判定：
inspection-col-earned = 得分
inspection-col-weight = 权重
inspection-col-why = 原因
inspection-col-photo = 照片
inspection-col-quality = 质量
inspection-col-trust = 可信度
inspection-reviewed = 复核结果：
inspection-reviewed-by = 由 { $user } 于 { $at } 复核：
inspection-review-accepted = 采纳
inspection-review-rejected = 不采纳
inspection-reason = 理由
inspection-accept = 采纳
inspection-reject = 不采纳
inspection-review-done = 照片 { $photo }… 已{ $decision }；现在得分为 { $score }。

## 预警

alerts-title = 预警
alerts-tab-open = 未处理
alerts-tab-snoozed = 已暂缓
alerts-tab-closed = 已关闭（历史）
alerts-kind = 类型
alerts-kind-low-stock = 库存不足
alerts-kind-promotion-not-started = 促销未启动
alerts-kind-sales-falling = 销量下滑
alerts-search-placeholder = 门店、商品、标题
alerts-show = 查看
alerts-count-open = { $count } 条未处理预警
alerts-count-snoozed = { $count } 条已暂缓预警
alerts-count-closed = { $count } 条已关闭预警
alerts-count-on-page = { $line }；本页显示 { $shown } 条
alerts-next-page = 下一页
alerts-col-raised = 触发时间
alerts-col-alert = 预警
alerts-col-store = 门店
alerts-col-detail = 详情
alerts-col-product = 商品
alerts-col-age = 已持续
alerts-col-owner = 负责人
alerts-col-status = 状态
alerts-col-act = 操作
alerts-closed-age = { $age }关闭
alerts-reassigned-to = 已转给 { $user }
alerts-acknowledged-by = 确认人
alerts-snoozed-until = 由 { $user } 暂缓至 { $day }
alerts-actions = { $count } 条操作记录
alerts-history-acknowledged = 已确认
alerts-history-snoozed = 暂缓至 { $day }
alerts-history-reassigned = 转给 { $user }
alerts-note = 备注
alerts-note-placeholder = 备注（可选）
alerts-acknowledge = 确认
alerts-snooze-until = 暂缓至
alerts-snooze = 暂缓
alerts-reassign-to = 转给
alerts-reassign = 转派
alerts-done-acknowledged = 已确认预警。
alerts-done-snoozed = 预警已暂缓至 { $day }。
alerts-done-reassigned = 预警已转给 { $user }。

## 门店

stores-title = 门店
stores-period = 时间段
stores-rollout = 新品铺货
stores-newest = 最新
stores-coverage = 巡店覆盖率（最近 { $days } 天）
stores-coverage-note = 自 { $since } 起至少有一次巡店到店记录的在营门店占比。
stores-col-region = 区域
stores-col-stores = 门店数
stores-col-visited = 已巡店
stores-col-coverage = 覆盖率
stores-all = 全部
stores-rollout-of = { $sku } · { $name } 铺货情况
stores-rollout-share = { $stores } 家门店中有 { $reached } 家（{ $share }%）
stores-ordered-it = 已订购
stores-rollout-which = （已提交且未被驳回的订单）
stores-rollout-note = 新品铺货根据订单统计，仅总部和区域经理可见。
stores-count = 门店（{ $count } 家）
stores-count-found = 门店（{ $count } 家中的 { $found } 家）
stores-none-match = 没有符合条件的门店。
stores-next = 下 { $rows } 家门店
stores-search-placeholder = 门店、编码、地址、人员
stores-col-store = 门店
stores-col-tier = 等级
stores-col-last-visit = 最近巡店
stores-col-last-score = 最近得分
stores-col-visits = 巡店次数（{ $days } 天）
stores-col-first-ordered = { $sku } 首次订购
stores-col-units = 数量
stores-empty = 您的权限范围内没有门店。
stores-not-yet = 尚未订购

## 设备

devices-title = 设备
devices-search-placeholder = 用户、姓名、设备
devices-count = { $count } 位用户
devices-next = 下 { $rows } 位用户
devices-note = 设备每次通过认证的请求都会被记录为在线（最多每分钟一次）；每次同步时，系统还会记录手机上尚未被接收的文档数（待发送的和被拒绝的）。最后一次同步之后手机上发生了什么，系统无从得知：最后同步超过 { $hours } 小时的设备可能还有更多未同步的数据。
devices-col-user = 用户
devices-col-role = 角色
devices-col-region = 区域
devices-col-device = 设备
devices-col-last-sync = 最近同步
devices-col-unsynced = 上次同步时未同步
devices-col-newest-order = 服务器上的最新订单
devices-col-health = 状态
devices-col-wipe = 远程擦除
devices-disabled = 已停用
devices-no-device = 无设备
devices-never = 从未
devices-never-signed-in = 从未登录
devices-signed-in = { $age }登录
devices-none = 无
devices-documents = { $count } 份文档
devices-not-reported = 未上报
devices-browser = 浏览器
devices-never-synced = 从未同步
devices-stale = 超过 { $hours } 小时未同步
devices-recent = 正常
devices-holding = 有未同步数据的设备
devices-holding-none = 无：上次同步时，所有设备都已把数据全部交给服务器。
devices-holding-count = { $count } 份未同步
devices-holding-at = （上次同步，{ $age }）
devices-stale-reps = 可能有未同步订单的业务员
devices-stale-reps-none = 无：所有业务员的手机在最近 { $hours } 小时内都同步过。
devices-last-sync = 最近同步 { $age }
devices-revoke = 吊销并擦除
devices-revoke-title = 吊销 { $device }，并在其下次连接时擦除数据
devices-disable-user = 停用用户

## 用户（管理）

users-title = 用户
users-new = 新建用户
users-username = 用户名
users-display-name = 显示名称
users-role = 角色
users-region = 区域
users-region-placeholder = 总部用户留空
users-initial-password = 初始密码
users-create = 创建用户
users-search-placeholder = 用户名、姓名
users-disabled = 停用状态
users-enabled-only = 仅启用
users-disabled-only = 仅停用
users-count = 共 { $total } 个用户，显示 { $shown } 个
users-col-user = 用户
users-col-role-region = 角色与区域
users-col-created = 创建时间
users-col-status = 状态
users-col-password = 密码
users-field-region = 区域
users-field-display-name = 显示名称
users-save = 保存
users-enable = 启用
users-disable = 停用
users-tag-disabled = 已停用
users-tag-active = 正常
users-new-password = 新密码
users-reset = 重置
users-done-created = 已创建用户 { $user }（{ $role }）。
users-done-saved = 已保存 { $user }：{ $role }。
users-done-saved-region = 已保存 { $user }：{ $role }，区域 { $region }。
users-done-disabled = 已停用 { $user }，并结束其所有会话。
users-done-enabled = 已启用 { $user }：该用户可以重新登录。
users-done-password = 已为 { $user } 设置新密码。

## 门店（管理）

store-admin-title = 门店管理
store-admin-new = 新建门店
store-admin-edit = 编辑门店
store-admin-search-placeholder = 名称、编码、地址、客户
store-admin-state = 经营状态
store-admin-served = 服务中
store-admin-closed = 已关闭
store-admin-count = 共 { $count } 家门店
store-admin-col-code = 编码
store-admin-col-name = 名称
store-admin-col-address = 地址
store-admin-col-region = 区域
store-admin-col-tier = 等级
store-admin-col-customer = 客户
store-admin-col-rep = 业务员
store-admin-col-supervisor = 督导
store-admin-choose = 请选择…
store-admin-customer-id = 客户编号
store-admin-geofence = 地理围栏
store-admin-latitude = 纬度
store-admin-longitude = 经度
store-admin-radius = 半径（米）
store-admin-radius-placeholder = 默认
store-admin-served-checkbox = 服务中
store-admin-save = 保存门店
store-admin-create = 创建门店
store-admin-cancel = 取消
store-admin-done-created = 已创建门店 { $name }（{ $code }）。
store-admin-done-saved = 已保存门店 { $name }（{ $code }）。
store-admin-done-unchanged = 门店 { $name } 未作改动：无需保存。

## 检查模板（管理）

templates-title = 检查模板
templates-new = 新建模板
templates-edit = 编辑模板
templates-col-name = 名称
templates-col-items = 检查项
templates-col-version = 版本
templates-none = 暂无模板。
templates-name = 名称
templates-items = 检查项，每行一项：权重 | photo | 问题
templates-items-placeholder =
    2 | photo | 货架是否摆满？
    1 |  | 价格是否标示清楚？
templates-save = 保存模板
templates-create = 创建模板
templates-cancel = 取消
templates-note = 修改过的问题视为新的检查项；未改动的检查项保留其在以往巡店中的答案。
templates-done-created = 已创建模板 { $name }，共 { $count } 个检查项。
templates-done-saved = 已保存模板 { $name }：生成新版本。
templates-done-unchanged = 模板 { $name } 未作改动：无需保存。

## 数据导入（管理）

imports-title = 数据导入
imports-dataset = 数据集
imports-file = CSV 文件
imports-paste = 或粘贴 CSV 内容（首行为表头）
imports-note = 各数据集的列见导入指南（docs/imports.md）。预览会检查每一行，不写入任何数据。
imports-preview = 预览
imports-history = 导入记录
imports-col-when = 时间
imports-col-who = 操作人
imports-col-dataset = 数据集
imports-col-file = 文件
imports-col-rows = 行数
imports-col-outcome = 结果
imports-col-detail = 详情
imports-none = 暂无导入记录。
imports-outcome-applied = 已导入
imports-outcome-refused = 已拒绝
imports-outcome-failed = 失败
imports-outcome-running = 进行中
imports-outcome-interrupted = 已中断
imports-clean = { $dataset } 共 { $rows } 行，无错误。尚未写入任何数据。
imports-apply = 执行导入
imports-refused = { $count } 行有错误：未写入任何数据。请修正文件后重新预览。
imports-col-line = 行号
imports-col-reason = 原因
imports-line-file = 文件
imports-more = 另有 { $count } 行
imports-done = 已导入 { $dataset } { $rows } 行：新建 { $created } { $counted ->
    [documents] 条记录
    [products] 个商品
    [prices] 条价格
   *[rows] 行
}，更新 { $updated }，未变 { $unchanged }。
imports-uploading = 正在上传文件
imports-run-title = 导入 { $id }
imports-run-note = 导入由服务器在后台完成：可以离开此页面，稍后从导入记录回到这里。
imports-run-starting = 正在开始…
imports-run-checking = 正在检查：{ $rows } 行，已读 { $read } / { $total } MB
imports-run-writing = 正在写入：{ $done } / { $total } { $counted ->
    [documents] 条记录
    [catalog] 份商品目录
   *[rows] 行
}
imports-run-writing-bytes = 正在写入：已读 { $read } / { $total } MB
imports-run-failed = 导入失败。
imports-run-interrupted = 此次导入已中断：运行期间服务器停止了（最后一次更新于 { $at }）。销售与进货数据未写入；中断前已写入的记录会保留。请重新预览并执行导入：已存在的数据不会改变。
imports-run-back = 返回数据导入

## Webhook 订阅

webhooks-title = Webhook 订阅
webhooks-note = 事件流共有 { $count } 条事件。每个订阅按顺序接收经签名的事件；接收方在所有重试后仍拒收的事件会成为下方的死信，投递随后继续处理下一条。
webhooks-none = 暂无订阅：可通过 POST /v1/webhooks 或 admin subscribe 创建。
webhooks-types = 事件类型：{ $types }
webhooks-types-all = 全部
webhooks-created = 创建于 { $at }
webhooks-delivered-up-to = 已投递至第
webhooks-delivered-of = 条，共 { $last } 条
webhooks-no-dead-letters = 没有死信。
webhooks-col-position = 位置
webhooks-col-event = 事件
webhooks-col-type = 类型
webhooks-col-attempts = 尝试次数
webhooks-col-last-answer = 最后响应
webhooks-col-given-up = 放弃时间
webhooks-replay-after = 重新发送此位置之后的所有事件：
webhooks-replay = 重放
webhooks-bad-position = 位置“{ $position }”不是大于或等于 0 的整数
webhooks-done-replay = 订阅 { $id } 将重新接收位置 { $after } 之后的所有事件。

## The tenant's settings page
settings-title = 租户设置
settings-tenant = 租户：
settings-time-zone = 时区（IANA 名称）
settings-currency = 币种（ISO 4217 代码）
settings-language = 默认语言
settings-language-browser = 跟随浏览器语言
settings-note = 日期按此时区计算；金额以此币种显示。个人在页面顶部选择的语言优先于默认语言。
settings-save = 保存设置
settings-saved = 设置已保存。
