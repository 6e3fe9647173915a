//! Low stock: a SKU of a warehouse whose available units (on hand minus reserved) are below its
//! safety level. Reserved units are already promised to orders under review or approved, so they
//! do not protect the shelf: an alert fires as soon as what can still be sold drops below safety.
//! One cause per warehouse, region and SKU: `low-stock:{warehouse}/{region}:{sku}`.

use fieldsync_core::doc::Inventory;

use fieldsync_core::i18n::Message;

use super::{AlertKind, Cause};

/// One SKU of one warehouse below its safety level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowStock {
    /// The warehouse code.
    pub warehouse: String,
    /// The region the warehouse serves.
    pub region: String,
    /// The product.
    pub sku: String,
    /// Units on hand.
    pub on_hand: i64,
    /// Units reserved by orders.
    pub reserved: i64,
    /// The safety level.
    pub safety: i64,
}

impl LowStock {
    /// Units that can still be promised.
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    /// The alert this finding raises; `product` is the SKU's name in the catalog, when it has one,
    /// so that people read a product and not a code.
    pub fn cause(&self, product: Option<&str>) -> Cause {
        let what = product.map_or_else(|| self.sku.clone(), |name| format!("{name} ({})", self.sku));
        let key = format!("{}:{}/{}:{}", AlertKind::LowStock.as_str(), self.warehouse, self.region, self.sku);
        let title = Message::new("alert-low-stock-title").arg("product", &what).arg("warehouse", &self.warehouse);
        let detail = Message::new("alert-low-stock-detail")
            .arg("product", &what)
            .arg("warehouse", &self.warehouse)
            .arg("region", &self.region)
            .arg("available", self.available())
            .arg("on-hand", self.on_hand)
            .arg("reserved", self.reserved)
            .arg("safety", self.safety);
        Cause { sku: Some(self.sku.clone()), ..Cause::new(key, AlertKind::LowStock, title, detail) }
    }
}

/// Every SKU of every inventory whose available units are below its safety level, in inventory
/// then SKU order.
pub fn detect(inventories: &[Inventory]) -> Vec<LowStock> {
    inventories
        .iter()
        .flat_map(|inventory| {
            inventory.levels.iter().filter(|(_, level)| level.available() < level.safety).map(|(sku, level)| LowStock {
                warehouse: inventory.warehouse.clone(),
                region: inventory.region.clone(),
                sku: sku.clone(),
                on_hand: level.on_hand,
                reserved: level.reserved,
                safety: level.safety,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use fieldsync_core::doc::StockLevel;

    use super::*;

    fn inventory(levels: &[(&str, i64, i64, i64)]) -> Inventory {
        Inventory {
            warehouse: "WH-N".into(),
            region: "north".into(),
            levels: levels
                .iter()
                .map(|&(sku, on_hand, reserved, safety)| (sku.to_owned(), StockLevel { on_hand, reserved, safety }))
                .collect(),
            as_of: 0,
        }
    }

    #[test]
    fn a_sku_is_low_when_what_can_still_be_sold_is_below_safety() {
        // (case, on_hand, reserved, safety, low?)
        let cases = [
            ("well above", 100, 0, 20, false),
            ("exactly at safety", 20, 0, 20, false),
            ("one below safety", 19, 0, 20, true),
            ("reservations eat into safety", 30, 15, 20, true),
            ("reservations leave exactly safety", 35, 15, 20, false),
            ("no safety level, in stock", 0, 0, 0, false),
            ("no safety level, over-reserved", 2, 3, 0, true),
        ];
        for (case, on_hand, reserved, safety, low) in cases {
            let found = detect(&[inventory(&[("SKU-1", on_hand, reserved, safety)])]);
            assert_eq!(found.len(), usize::from(low), "{case}");
            if let Some(found) = found.first() {
                assert_eq!(found.available(), on_hand - reserved, "{case}");
            }
        }
    }

    #[test]
    fn every_alert_reads_in_chinese_from_declared_codes_and_keeps_its_english_title() {
        use fieldsync_core::doc::ALERT_MESSAGES;
        use fieldsync_core::i18n::Language;

        let low = LowStock {
            warehouse: "WH-N".into(),
            region: "north".into(),
            sku: "SKU-1".into(),
            on_hand: 5,
            reserved: 2,
            safety: 10,
        };
        let cause = low.cause(Some("Sparkling water 1 l"));
        assert_eq!(cause.title, "Low stock: Sparkling water 1 l (SKU-1) at WH-N");
        let (title, detail) = super::super::text(&cause.title, &cause.detail, Some(&cause.texts), Language::Chinese);
        assert_eq!(title, "库存不足：WH-N 的 Sparkling water 1 l (SKU-1)");
        assert!(detail.contains("可用 3 件（在库 5 件，已预留 2 件），低于安全库存 10 件"), "{detail}");
        // An alert stored before codes: its English words in every language.
        assert_eq!(super::super::text("old", "words", None, Language::Chinese), ("old".to_owned(), "words".to_owned()));
        for message in [&cause.texts.title, &cause.texts.detail] {
            let declared = ALERT_MESSAGES.iter().find(|(id, _)| *id == message.code);
            let names: Option<std::collections::BTreeSet<String>> =
                declared.map(|(_, args)| args.iter().map(|n| (*n).to_owned()).collect());
            assert_eq!(Some(message.argument_names()), names, "{} is declared with its arguments", message.code);
        }
    }

    #[test]
    fn the_cause_key_names_warehouse_region_and_sku_and_the_detail_gives_the_figures() {
        let found = detect(&[inventory(&[("SKU-1", 5, 2, 10), ("SKU-2", 50, 0, 10)])]);
        assert_eq!(found.len(), 1);
        let cause = found[0].cause(Some("Sparkling water 1 l"));
        assert_eq!(cause.key, "low-stock:WH-N/north:SKU-1");
        assert_eq!(cause.title, "Low stock: Sparkling water 1 l (SKU-1) at WH-N");
        assert_eq!(found[0].cause(None).title, "Low stock: SKU-1 at WH-N");
        assert_eq!(cause.kind, AlertKind::LowStock);
        assert_eq!(cause.sku.as_deref(), Some("SKU-1"));
        assert!(cause.detail.contains("3 available (5 on hand, 2 reserved)"), "{}", cause.detail);
        assert!(cause.detail.contains("safety level of 10"), "{}", cause.detail);
    }
}
