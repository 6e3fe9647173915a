# 核心文本（简体中文）：手机上显示的审核意见、照片质量与评分理由。
# 每个 id 都是稳定的代码，应用和集成按代码匹配，人读文本。

## 订单审核意见。$line 为订单行号。

finding-price-below-floor = 第 { $line } 行：单价 { $price } 低于 { $tier } 级客户底价 { $floor }
