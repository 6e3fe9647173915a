# 拒绝原因（简体中文）：服务拒绝某项操作时向用户说明的原因（用户名已被使用、暂缓日期早于今天、
# 导入文件中的错误行等）。接口、命令行和日志读取英文文本；管理后台按查看者的语言显示同一条消息。
# 参数在传入前已格式化（带引号的值与服务器的写法一致）；{ $role }、{ $field } 等为部件，即本目录中的其他文本。

## 名称、密码、角色与区域（services/accounts）

refusal-field-tenant-name = 租户名称
refusal-field-username = 用户名
refusal-field-region = 区域
refusal-field-api-key-name = API 密钥名称
refusal-name-length = { $field } { $value } 无效：长度须为 1 到 { $max } 个字符
refusal-name-chars = { $field } { $value } 无效：只能使用小写字母、数字、“-”、“_”或“.”
refusal-name-start = { $field } { $value } 无效：须以字母或数字开头
refusal-display-name = 显示名称 { $name } 无效：最多 100 个字符，且不能包含控制字符
refusal-password-short = 密码无效：至少需要 8 个字符
refusal-password-long = 密码无效：最多 256 个字节
refusal-password-control = 密码无效：不能包含控制字符
refusal-unknown-role = 未知角色 { $role }：应为 rep、supervisor、manager 或 hq
refusal-hq-no-region = 总部用户可查看整个租户，不设区域，但填写了区域 { $region }
refusal-region-needed = { $role }必须指定区域（--region）
refusal-language-not-spoken = 不支持语言“{ $tag }”（请选择 en 或 zh-CN）
refusal-tenant-exists = 租户 { $name } 已存在
refusal-user-exists = 用户名 { $username } 已被使用
refusal-self-change = 用户 { $username } 就是当前操作人：请由另一位总部用户操作
refusal-own-user = 用户 { $username } 就是当前操作人
refusal-own-device = 设备 { $device } 就是发出此请求的设备

## 谁可以做什么（调用者检查）

refusal-hq-only = 只有总部可以{ $action }，{ $role }无权操作
refusal-key-cannot = API 密钥 { $key } 无法{ $action }：请以总部用户身份登录
refusal-key-lacks-scope = API 密钥 { $key } 缺少权限范围 { $scope }
refusal-scope-needs-hq = 只有总部或具有权限范围 { $scope } 的 API 密钥可以执行此操作，{ $role }无权操作
refusal-action-create-user = 创建用户
refusal-action-reset-password = 重置密码
refusal-action-enable-user = 启用用户
refusal-action-change-user = 修改用户
refusal-action-disable-user = 停用用户
refusal-action-revoke-device = 吊销设备
refusal-action-create-store = 新建门店
refusal-action-edit-store = 编辑门店
refusal-action-manage-templates = 管理检查模板
refusal-action-import-data = 导入数据
refusal-action-see-import-history = 查看导入记录
refusal-action-see-import-run = 查看某次导入的详情
refusal-action-manage-api-keys = 管理 API 密钥
refusal-action-manage-webhooks = 管理 Webhook

## API 密钥与事件订阅

refusal-unknown-scope = 未知权限范围 { $scope }：可用 { $scopes }
refusal-scope-needed = API 密钥至少需要一个权限范围：{ $scopes }
refusal-api-key-live = 名为 { $name } 的 API 密钥仍在使用：请先吊销

## 门店（services/stores、门店管理页）

refusal-field-store-name = 门店名称
refusal-field-store-code = 门店编码
refusal-field-address = 地址
refusal-field-customer-id = 客户编号
refusal-field-latitude = 纬度
refusal-field-longitude = 经度
refusal-field-geofence = 地理围栏半径
refusal-store-code-length = 门店编码 { $code } 无效：长度须为 1 到 { $max } 个字符
refusal-store-code-chars = 门店编码 { $code } 无效：只能使用大写字母 A-Z、数字和“-”
refusal-store-code-start = 门店编码 { $code } 无效：须以字母或数字开头
refusal-latitude = 纬度 { $value } 无效：须在 -90 到 90 度之间
refusal-longitude = 经度 { $value } 无效：须在 -180 到 180 度之间
refusal-geofence = 地理围栏半径 { $value } 米无效：填 0 表示默认值，或填 { $min } 到 { $max } 米
refusal-store-text = { $field } { $value } 无效：须为 1 到 { $max } 个字符，且不能包含控制字符
refusal-tier = 客户等级 { $tier } 无效：应为 { $tiers } 之一
refusal-person-unknown = { $column } { $username } 不是本租户的用户
refusal-person-role = { $column } { $username } 的角色是{ $actual }，不是{ $role }
refusal-store-taken = { $what } { $value } 已被门店 { $other } 使用
refusal-not-a-number = { $field } { $value } 无效：应为数字

## 检查模板（services/templates、模板管理页）

refusal-template-name = 模板名称 { $name } 无效：须为 1 到 { $max } 个字符，且不能包含控制字符
refusal-template-items = 模板须有 1 到 { $max } 个检查项，当前为 { $count } 个
refusal-template-question = 第 { $item } 项的问题 { $text } 无效：须为 1 到 { $max } 个字符
refusal-template-weight = 第 { $item } 项的权重 { $weight } 无效：须大于 0 且不超过 { $max }
refusal-template-repeated = 第 { $item } 项与前面的问题 { $text } 重复
refusal-item-line = 检查项第 { $line } 行（{ $text }）：{ $reason }
refusal-item-line-parts = 请按“权重 | photo | 问题”填写
refusal-item-line-weight = 权重不是数字
refusal-item-line-photo = 中间一栏须为“photo”或留空

## 表单中的日期（services/listing）

refusal-field-from-date = 开始日期
refusal-field-to-date = 结束日期
refusal-field-snooze-date = 暂缓日期
refusal-not-a-date = { $field } { $value } 无效：日期格式应为 YYYY-MM-DD
refusal-date-range = 日期范围的结束日期（{ $to }）早于开始日期（{ $from }）

## 预警（services/alerts/triage、预警页）

refusal-alert-key = 预警标识 { $key } 无效
refusal-alert-closed = 预警 { $key } 已关闭：其原因已消除
refusal-note-too-long = 备注长 { $length } 个字符，最多只能保留 { $max } 个
refusal-snooze-missing = 请填写预警重新出现的日期
refusal-snooze-past = 暂缓日期 { $day } 不晚于今天（{ $today }）
refusal-snooze-too-far = 暂缓日期 { $day } 超过了 { $max } 天的上限
refusal-assignee-unknown = 没有名为 { $username } 的在用用户，无法转派
refusal-assignee-outside = 用户 { $username } 不在您的区域内；请转派给您区域内的人员或总部
refusal-unknown-alert-action = 未知操作 { $action }：应为 acknowledge、snooze 或 reassign

## 照片复核（services/inspections/review）

refusal-photo-decision = 复核结论 { $decision } 无效：应为 accepted 或 rejected
refusal-reason-missing = 请填写复核理由
refusal-reason-too-long = 理由长 { $length } 个字符，最多只能保留 { $max } 个
refusal-photo-reviewer = 照片由督导的区域经理或总部复核；{ $role }无权复核
refusal-inspection-not-scored = 巡店 { $inspection } 尚未评分：评分后再复核其照片
refusal-photo-not-to-review = 照片 { $photo } 的状态为“{ $state }”，无需复核
refusal-photo-not-scored = 未评分
refusal-photo-pass = 通过
refusal-photo-review = 待复核
refusal-photo-rejected = 不通过

## 用户页

refusal-unknown-user-action = 未知的用户操作 { $action }

## 审批决定（services/orders）

refusal-verdict = 审批结论 { $verdict } 无效：应为 approve 或 reject
refusal-decider-role = { $role }不能审批；区域经理和总部可以
refusal-order-not-reviewed = 订单 { $order } 尚未完成审核
refusal-decision-own-order = { $approver } 是订单 { $order } 的下单人，不能审批该订单
refusal-decision-not-approver = 订单 { $order } 的第 { $step } 步应由 { $expected } 审批，而不是 { $approver }
refusal-decision-reason = 驳回订单 { $order } 的第 { $step } 步须填写理由
refusal-decision-unknown-step = 订单 { $order } 没有第 { $step } 步审批
refusal-decision-not-current = 订单 { $order } 的第 { $step } 步不在等待审批（订单状态：{ $outcome ->
        [approved] 已通过
        [rejected] 已驳回
        [needs-approval] 待审批
       *[other] { $outcome }
    }）
refusal-decision-other-submission = 该审批针对订单 { $order } 的第 { $decision } 次提交，但当前审核的是第 { $review } 次提交
refusal-invalid-step = 审批步骤 { $value } 无效
refusal-invalid-submission = 提交次数 { $value } 无效
refusal-approver-role = { $role }没有需要审批的订单；由区域经理和总部审批
refusal-selection = 所选项 { $selection } 无效：格式应为 订单编号:步骤:提交次数
refusal-nothing-selected = 未选择订单：请勾选要审批的订单
refusal-too-many-selected = 已选择 { $count } 个订单：一次最多审批 { $max } 个

## 外出代理（services/orders/delegation、外出代理页）

refusal-delegator-role = { $role }没有审批任务，无需设置代理
refusal-delegate-unknown = 未知的代理人 { $delegate }：没有该用户
refusal-delegate-self = { $delegate } 不能做自己的代理人
refusal-delegate-disabled = 代理人 { $delegate } 已停用
refusal-delegate-cannot-decide = 代理人 { $delegate } 是{ $who }，不能代{ $approver }审批：请选择{ $choose }
refusal-role-of-region = { $region } 区域的{ $role }
refusal-role-alone = { $role }
refusal-choose-manager-or-hq = { $region } 区域的区域经理或总部用户
refusal-choose-hq = 总部用户
refusal-away-ends-first = 外出时段的结束时间（{ $ends }）早于开始时间（{ $starts }）
refusal-away-over = 该外出时段已经结束
refusal-away-too-long = 外出时段最长为 366 天
refusal-delegate-loop = 委托给 { $delegate } 会形成循环：{ $chain }
refusal-away-days-needed = 请填写外出的第一天和最后一天
refusal-unknown-away-action = 未知操作 { $action }：应为 set 或 end

## 事件流与 Webhook（services/events）

refusal-feed-reader = 用户 { $username } 无权读取事件流：需要总部登录或具有权限范围 { $scope } 的 API 密钥
refusal-cursor = 游标 { $cursor } 不是此事件流中的位置
refusal-cursor-past-end = 游标“{ $cursor }”不是此事件流中的位置：已超出事件流末尾
refusal-event-type = 未知事件类型 { $type }
refusal-event-type-expected = 未知事件类型 { $type }：应为以下之一：{ $types }
refusal-feed-limit = 数量上限 { $limit } 须为 1 到 { $max } 之间的整数
refusal-subscriptions-key = API 密钥 { $key } 无权管理事件订阅：需要总部登录
refusal-subscriptions-user = 用户 { $username } 无权管理事件订阅：需要总部登录

## 审批规则（services/orders/policy、审批规则编辑器）

refusal-list = { $first }；{ $rest }
refusal-policy-json = 审批规则格式有误：{ $detail }
refusal-policy-approver = 规则 { $rule }：未知审批人 { $approver }：应为 manager 或 hq
refusal-policy-respond-within = 规则 { $rule }：respond_within：时长 { $text } 无效：应为大于零的小时和分钟，如 4h、90m 或 1h30m
refusal-policy-escalate-to = 规则 { $rule }：未知的 escalate_to { $target }：应为 hq 或 next-manager-up
refusal-policy-time = working_hours.{ $field }：时间 { $time } 无效：格式应为 HH:MM
refusal-policy-reminder = reminder_percent { $percent } 不在 1 到 99 之间
refusal-policy-day = working_hours：未知的工作日 { $day }：工作日为 1（周一）到 7（周日）
refusal-policy-no-working-time = working_hours：没有工作时间（未设工作日，或结束时间不晚于开始时间）
refusal-policy-rule-id = 规则编号 { $rule }：只能使用小写字母、数字和连字符
refusal-policy-no-name = 规则 { $rule }：名称为空（业务员和审批人会看到它）
refusal-policy-unknown-tier = 规则 { $rule }：未知的客户等级 { $value }
refusal-policy-unknown-region = 规则 { $rule }：未知的区域 { $value }
refusal-policy-unknown-category = 规则 { $rule }：未知的品类 { $value }
refusal-policy-no-approvers = 规则 { $rule }：没有审批人，因此不会为任何订单安排审批
refusal-policy-unreachable = 规则 { $rule }：永远不会命中：没有订单的折扣超过 100% 或总额为负
refusal-policy-never-escalates = 规则 { $rule }：设置了 escalate_to 但没有 respond_within：永远不会升级
refusal-policy-no-hq = 规则 { $rule }：审批人为总部，但没有用户担任总部角色
refusal-policy-no-manager-no-hq = 规则 { $rule }：审批人为区域经理，但区域 { $regions } 没有区域经理，也没有用户担任总部角色
refusal-policy-no-manager = 规则 { $rule }：区域 { $regions } 没有区域经理：由总部审批
refusal-policy-covered = 规则 { $rule }：实际上不会命中：规则 { $other } 已将它匹配的所有订单以同样的时限交给相同的审批人
refusal-policy-hq-only = 只有总部可以编辑审批规则，{ $role }不可以
refusal-policy-not-published = 审批规则未发布：{ $errors }
refusal-policy-catalogs = 该租户有 { $count } 个商品目录，应为一个

## 导入：被拒文件的各行（imports/）

refusal-import-line = 第 { $line } 行：{ $reason }
refusal-as-written = { $text }
refusal-unknown-dataset = 未知数据集 { $dataset }：可用 { $datasets }
refusal-import-empty-file = 文件为空：第一行应为表头
refusal-import-unknown-column = 未知列 { $column }：应为 { $columns }
refusal-import-column-twice = 表头中列 { $column } 出现了两次
refusal-import-missing-column = 缺少列 { $column }：应为 { $columns }
refusal-import-width = 有 { $fields } 个字段，而表头有 { $width } 列
refusal-import-not-utf8 = 第 { $field } 个字段不是 UTF-8 文本
refusal-import-csv = CSV 格式有误：{ $detail }
refusal-import-empty = { $column } 为空
refusal-import-region = 区域 { $value }：{ $why }
refusal-import-tier = 客户等级 { $value } 须为 A、B、C 之一
refusal-import-tier-or-any = 客户等级 { $value } 须为 A、B、C 之一，或留空表示任意等级
refusal-import-whole = { $column } { $value } 须为不小于 { $min } 的整数
refusal-import-degrees = { $column } { $value } 须为 -{ $limit } 到 { $limit } 之间的度数
refusal-import-amount = { $column } { $value } 须为不小于 0、最多两位小数的金额，如 12.40
refusal-import-day = 日期 { $value } 须按 YYYY-MM-DD 格式填写
refusal-import-flag = { $column } { $value } 须为 true 或 false
refusal-import-not-a-user = { $column } { $username } 不是本租户的用户
refusal-import-duplicate-customer = customer_id { $value } 已在第 { $first } 行出现
refusal-import-unknown-store = customer_id { $value } 不是本租户的门店
refusal-import-unknown-sku = SKU { $sku } 不在本租户的商品目录中
refusal-import-duplicate-stock = 仓库 { $warehouse }（{ $region }）的 SKU { $sku } 已在第 { $first } 行出现
refusal-import-duplicate-sku = SKU { $sku } 已在第 { $first } 行出现
refusal-import-price-list-header = 价目表 { $list } 在第 { $first } 行的客户等级为 { $tier }、区域为 { $region }
refusal-import-duplicate-price = 价目表 { $list } 中 SKU { $sku } 起订量 { $min } 的价格已在第 { $first } 行出现
refusal-import-already = { $row }已在第 { $first } 行出现
refusal-import-sale-key = customer_id { $customer }、SKU { $sku } 在 { $day } 的记录
refusal-import-purchase-key = 经销商 { $distributor }、区域 { $region }、SKU { $sku } 在 { $day } 的记录
refusal-batch-unknown-column = 未知列 { $column }
refusal-batch-missing-column = 缺少列 { $column }
refusal-batch-not-a-value = { $column } 须为字符串、数字、true、false 或 null
refusal-batch-line-break = { $column } 含有换行符

## 租户的时区与币种（locale.rs）及租户设置页

refusal-time-zone-empty = 时区为空：请填写 IANA 名称，例如 Asia/Shanghai
refusal-time-zone-unknown = 未知时区 { $zone }：请填写 IANA 名称，例如 Asia/Shanghai、Europe/Berlin 或 UTC
refusal-currency-unknown = 未知币种 { $code }：请填写 ISO 4217 代码，例如 CNY 或 EUR
refusal-currency-not-money = 币种 { $code }（{ $name }）不是客户用于支付的货币
refusal-currency-replaced = 币种 { $code } 已被 { $successor } 取代：请使用后者
refusal-currency-places = 币种 { $code } 有 { $places } 位小数；FieldSync 以百分之一为单位记账，只支持两位小数的币种
refusal-action-see-settings = 查看租户设置
refusal-action-change-settings = 修改租户设置

## 数据导入页的表单（dashboard/pages/imports.rs）

refusal-import-form-too-large = 文件超过页面可接收的大小（{ $mib } MiB）：请通过 API 或命令行导入
refusal-import-form-unreadable = 无法读取表单：{ $detail }
refusal-import-not-previewed = 此文件尚未预览（或预览后已更改）：请先预览
