# 核心文本（简体中文）：手机上显示的审核意见、照片质量与评分理由。
# 每个 id 都是稳定的代码，应用和集成按代码匹配，人读文本。

## 订单审核意见：`finding-` 加审核意见代码。$line 为订单行号。
## 价格来源：$source 为 customer、tier-region、tier、region、base 或 any。

finding-unknown-product = 第 { $line } 行：未知商品 { $sku }
finding-inactive-product = 第 { $line } 行：商品 { $sku } 已停售
finding-invalid-quantity = 第 { $line } 行：{ $sku } 的数量 { $qty } 无效，至少为 1
finding-invalid-discount = 第 { $line } 行：折扣 { $discount } 个基点无效，应在 0 到 { $max } 个基点之间
finding-price-below-floor = 第 { $line } 行：单价 { $price } 低于{ $source ->
        [customer] 客户 { $customer } 的
        [tier-region] { " " }{ $region } 区域 { $tier } 级客户
        [tier] { " " }{ $tier } 级客户
        [region] { " " }{ $region } 区域
        [base] 按基础价计的
       *[any] 统一
    }底价 { $floor }
finding-price-above-list = 第 { $line } 行：单价 { $price } 高于{ $source ->
        [customer] 客户 { $customer } 的
        [tier-region] { " " }{ $region } 区域 { $tier } 级客户
        [tier] { " " }{ $tier } 级客户
        [region] { " " }{ $region } 区域
        [base] 按基础价计的
       *[any] 统一
    }目录价 { $list }
finding-discount-over-limit = 第 { $line } 行：折扣 { $discount } 超过 { $tier } 级客户“{ $category }”品类的上限 { $limit }{ $promoted ->
        [yes] （含促销 { $promotions }）
       *[no] { "" }
    }
finding-promotion-applied = 第 { $line } 行：促销“{ $name }”可享 { $discount } 折扣
finding-no-lines = 订单没有任何商品行
finding-below-minimum-order = 订单总额 { $total } 低于最低起订额 { $minimum }
finding-insufficient-stock = 第 { $line } 行：{ $sku } 订购 { $wanted } 件，{ $warehouse } 仅有 { $available } 件可用
finding-stock-unknown = 未检查库存：没有覆盖 { $region } 区域的库存
finding-no-approver = { $region } 区域没有可审批订单的{ $role ->
        [manager] 经理
        [hq] 总部人员
       *[other] { $role }
    }

## 照片质量：拍照界面的提示，以及评分报告中的质量理由。

quality-ok = 合格
quality-retake = { $problems }：请重拍
quality-retake-if-you-can = 合格，但接近{ $problems }：如方便请重拍
quality-list = { $first }、{ $rest }
quality-list-and = { $first }和{ $rest }
quality-problem-blurry = 模糊
quality-problem-too-dark = 过暗
quality-problem-overexposed = 过曝
quality-problem-low-contrast = 对比度低
quality-problem-too-small = 尺寸过小
quality-blurry = 模糊：清晰度 { $sharpness } 低于要求的 { $needed }（失焦或抖动）；请重拍
quality-too-dark-clipped = 过暗：画面 { $share }% 为全黑（最多允许 { $allowed }%）；请补光
quality-too-dark-mean = 过暗：平均亮度 { $brightness }（满分 255）低于 { $needed }；请补光
quality-overexposed-clipped = 过曝：画面 { $share }% 过曝成全白（最多允许 { $allowed }%）；请避开反光
quality-overexposed-mean = 过曝：平均亮度 { $brightness }（满分 255）高于 { $allowed }；请避开反光
quality-low-contrast = 对比度低：亮度跨度 { $spread } 低于 { $needed }（雾气、反光或镜头脏污）；会拉低得分
quality-too-small = 尺寸过小：{ $width }x{ $height } 像素；长边至少需要 { $needed }
quality-near-blurry = 接近模糊：清晰度 { $sharpness } 接近要求的 { $needed }（临界区间 { $low }-{ $high }）；暂时计入，需人工查看
quality-near-too-dark-clipped = 接近过暗：画面 { $share }% 为全黑，接近允许的 { $allowed }%（临界区间 ±{ $points } 个百分点）；暂时计入，需人工查看
quality-near-too-dark-mean = 接近过暗：平均亮度 { $brightness } 接近要求的 { $needed }（临界区间 ±{ $band }）；暂时计入，需人工查看
quality-near-overexposed-clipped = 接近过曝：画面 { $share }% 过曝，接近允许的 { $allowed }%（临界区间 ±{ $points } 个百分点）；暂时计入，需人工查看
quality-near-overexposed-mean = 接近过曝：平均亮度 { $brightness } 接近允许的 { $allowed }（临界区间 ±{ $band }）；暂时计入，需人工查看
quality-near = 接近{ $problem }；暂时计入，需人工查看
quality-phone-disagrees = 接近{ $problems }：手机测得同一文件合格（清晰度 { $phone-sharpness }，亮度 { $phone-brightness }），服务器测得不合格（清晰度 { $relay-sharpness }，亮度 { $relay-brightness }）；暂时计入，需人工查看

## 评分理由：整次巡店、每个检查项、每张照片的证据。
## $done 为 taken（拍摄）、checked-in（签到）或 checked-out（签退）；$place 为 same-store 或 other-store。

reason-preview-local = 手机上的预览：仅与本机的巡店记录比对重复照片
reason-verdict = 结论：{ $verdict ->
        [pass] 通过
        [review] 待人工复核
       *[rejected] 不予采信
    }
reason-audit-score = 稽核得分 { $score }（满分 100）：检查项得分 { $earned } / { $possible }
reason-score-capped = 得分被限制为 { $cap }（满分 100）（检查项得分 { $score }：{ $earned } / { $possible }），因为本次巡店本身不予采信：没有证据表明巡店发生在门店
reason-provisional-items = { $count } 个检查项仅凭待复核的照片得分（{ $items }）：需人工确认
reason-photos-rejected = { $count } 张照片不能作为本次巡店的证据，未计分：需人工查看原因
reason-evidence-none = 证据：没有照片
reason-evidence = 证据：{ $pass } 张可信，{ $review } 张待复核，{ $rejected } 张不予采信
reason-list = { $first }；{ $rest }

reason-invalid-weight = 检查表给该项的权重无效（{ $weight }）：按 0 计
reason-not-answered = 未作答
reason-not-applicable = 不适用：不计入得分
reason-answered-no = 回答“否”：不合规
reason-answered-yes = 回答“是”
reason-yes-trusted = 回答“是”，有 { $trusted } 张可信照片佐证{ $review ->
        [0] { "" }
       *[other] （另有 { $review } 张待复核）
    }{ $not-counted ->
        [0] { "" }
       *[other] ；{ $not-counted } 张照片不予采信或不可用，未计入
    }
reason-yes-provisional = 回答“是”，暂由 { $review } 张待复核的照片佐证，没有可信照片{ $not-counted ->
        [0] { "" }
       *[other] ；{ $not-counted } 张照片不予采信或不可用，未计入
    }：经人工确认后得分有效
reason-yes-no-photo = 回答“是”，但该项要求拍照而未拍：0 分
reason-yes-no-usable-photo = 回答“是”，但该项要求一张可用且可信的照片，所拍的 { $photos } 张都不符合：0 分
reason-photo-to-review = 照片 { $photo } 待复核：{ $why }
reason-photo-not-counted = 照片 { $photo }：{ $why }
reason-needs-a-look = 需人工查看
reason-not-usable = 不可用

reason-unusable = 无法使用：{ $reason }
reason-not-arrived = 无法使用：照片尚未上传
reason-good-quality = 质量良好
reason-item-not-on-checklist = 为检查项 { $item } 拍摄，但该项不在本检查表中
reason-photo-accepted = 已由 { $reviewer } 采信：{ $reason }
reason-photo-rejected = 已由 { $reviewer } 驳回：{ $reason }
reason-same-gps-as-the-visit = 与本次巡店的其他照片 GPS 位置完全相同
reason-same-gps = 与其他照片 GPS 位置完全相同
reason-identical-gps = 全部 { $count } 张照片的 GPS 位置完全相同（{ $latitude }, { $longitude }）：真实手机的位置在两次拍照之间会略有变化；请检查是否使用了固定或伪造的定位

reason-taken-before-check-in = 拍摄于签到前 { $before }（{ $at }）；签到前 { $slack } 起拍摄的照片才计入
reason-taken-after-check-out = 拍摄于签退后 { $after }（{ $at }）；签退后 { $slack } 内拍摄的照片才计入
reason-taken-during-visit = 拍摄于巡店期间
reason-no-check-out = 本次巡店没有签退，无法确定结束时间
reason-store-without-location = 门店没有有效位置，无法比对
reason-photo-without-gps = 照片没有记录 GPS 位置
reason-position-invalid = { $done ->
        [checked-in] 签到位置
        [checked-out] 签退位置
       *[taken] 照片的 GPS 位置
    }无效
reason-place-at-store = { $done ->
        [checked-in] 签到
        [checked-out] 签退
       *[taken] 拍摄
    }地点距门店 { $distance }（允许 { $allowed }）
reason-place-near-store = { $done ->
        [checked-in] 签到
        [checked-out] 签退
       *[taken] 拍摄
    }地点距门店 { $distance }，超出允许的 { $allowed }：请核实是否在门店
reason-place-far-from-store = { $done ->
        [checked-in] 签到
        [checked-out] 签退
       *[taken] 拍摄
    }地点距门店 { $distance }，超过 { $limit }：不在门店
reason-gps-too-coarse = GPS 精度 ±{ $accuracy } 太粗，无法确定{ $done ->
        [checked-in] 签到位置
        [checked-out] 签退位置
       *[taken] 照片的 GPS 位置
    }是否在门店
reason-check-in-and-out-apart = 签到与签退地点相距 { $apart }（超过 { $limit }）：请核实巡店期间是否一直在门店

reason-exif-no-time = 原始照片没有 EXIF 拍摄时间（很多应用会删除）：请人工核对
reason-exif-time-unreadable = 无法读取原始照片的 EXIF 拍摄时间 { $time }：请人工核对
reason-exif-time-in-zone = { $time }（{ $offset }）
reason-exif-time-camera-clock = { $time }（相机时钟）
reason-exif-before-check-in = EXIF 显示拍摄于 { $taken }，签到前 { $before }：不是本次巡店的照片
reason-exif-after-check-out = EXIF 显示拍摄于 { $taken }，签退后 { $after }：不是本次巡店的照片
reason-exif-during-visit = EXIF 显示拍摄于 { $taken }，在巡店期间
reason-exif-consistent-with-visit = EXIF 显示拍摄于 { $taken }（相机未记录时区），与巡店时间相符
reason-exif-gps-uncomparable = 无法比对原始照片的 EXIF GPS 位置
reason-exif-gps = EXIF GPS 显示拍摄地点距门店 { $distance }，{ $verdict ->
        [at] 在门店
        [near] 在门店附近：请核实是否在门店拍摄
       *[far] 不在门店
    }
reason-reused-file = 重复使用：同一照片文件已{ $place ->
        [same-store] 在该门店的另一次巡店中
       *[other-store] 在另一家门店
    }提交过（拍摄于 { $taken }）
reason-reused-copy = 重复使用：与{ $place ->
        [same-store] 该门店另一次巡店
       *[other-store] 另一家门店
    }已提交的照片是同一画面（拍摄于 { $taken }；两图相差 { $bits }/64 位，{ $how ->
        [turned] 经过镜像或旋转
       *[resaved] 经过重新保存或缩放
    }）

## 用户收件箱中的预警（由服务器发出，在手机和管理后台上阅读）。
## $product 为商品名称和 SKU，或仅 SKU；$figures 为每日数据。

alert-low-stock-title = 库存不足：{ $warehouse } 的 { $product }
alert-low-stock-detail = 仓库 { $warehouse }（{ $region }）的 { $product }：可用 { $available } 件（在库 { $on-hand } 件，已预留 { $reserved } 件），低于安全库存 { $safety } 件
alert-promotion-not-started-title = 促销未开始：{ $store } 的“{ $promotion }”
alert-promotion-not-started-detail = 促销“{ $promotion }”（{ $promotion-id }）已于 { $started } 开始，但还没有任何到访确认 { $store } 正在执行
alert-sales-falling-title = 销量下滑：{ $store }
alert-sales-falling-detail = { $store } 的总销售额连续 { $days } 天下降：{ $figures }
alert-product-sales-falling-title = 销量下滑：{ $store } 的 { $product }
alert-product-sales-falling-detail = { $store } 的 { $product } 销量（件）连续 { $days } 天下降：{ $figures }
alert-approval-reminder-title = 订单 { $order } 等待您审批
alert-approval-reminder-detail = 第 { $step } 步将于 { $due } 到期（剩余 { $left }）
alert-approval-escalated-title = 订单 { $order } 已升级给您审批
alert-approval-escalated-detail = { $reason }
