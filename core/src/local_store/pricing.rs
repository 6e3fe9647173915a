//! Price previews on the phone: the shared rules ([`crate::rules`]) run on what the device holds
//! (catalog, store, the region's stock), so the rep sees the relay's verdict before sending.

use std::collections::BTreeMap;

use super::LocalStore;
use super::orders::LineInput;
use crate::clock::now_ms;
use automerge::ChangeHash;

use crate::doc::{self, DocKind, Inventory, Order, OrderLine, RetailStore, ReviewOutcome};
use crate::error::Result;
use crate::id::DocumentId;
use crate::rules::{self, Assessment, StockView};

impl LocalStore {
    /// Prices and validates lines for a store as the relay will: list prices, promotions,
    /// discount limits, the minimum order, stock (when the region's inventory is on this device)
    /// and the approval steps the tenant's policy asks for. Lines get ids `1`, `2`, … in the
    /// order given. Nothing is written.
    pub fn price_preview(&self, store_id: &str, lines: &[LineInput]) -> Result<Assessment> {
        let lines: Vec<(String, OrderLine)> = lines
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let line = OrderLine {
                    sku: input.sku.clone(),
                    qty: input.qty,
                    unit_price_cents: input.unit_price_cents,
                    discount_bp: input.discount_bp,
                    position: i as i64,
                };
                ((i + 1).to_string(), line)
            })
            .collect();
        self.assess_lines(store_id, None, &lines)
    }

    /// The preview of an order on this device (draft or submitted), as [`Self::price_preview`].
    pub fn order_preview(&self, order_id: &DocumentId) -> Result<Assessment> {
        let order: Order = self.get(order_id)?;
        let lines: Vec<(String, OrderLine)> = order.lines.into_iter().collect();
        self.assess_lines(&order.store_id, Some(order_id), &lines)
    }

    fn assess_lines(
        &self,
        store_id: &str,
        order_id: Option<&DocumentId>,
        lines: &[(String, OrderLine)],
    ) -> Result<Assessment> {
        let store_doc: DocumentId = store_id.parse()?;
        let store: RetailStore = self.get(&store_doc)?;
        let catalog = self.catalog()?;
        let inventory = self.region_inventory(&store.region)?;
        let reserved_for_order = match (order_id, &inventory) {
            (Some(order_id), Some(inventory)) => self.reserved_for(order_id, inventory)?,
            _ => BTreeMap::new(),
        };
        let stock =
            inventory.as_ref().map(|inventory| StockView { inventory, reserved_for_order: &reserved_for_order });
        Ok(rules::assess(&catalog, store_id, &store, lines, stock, now_ms()))
    }

    /// What the relay holds reserved for an order, as this device can tell: the order's units at
    /// the heads its review pinned, unless the review rejected it, in the SKUs the inventory
    /// stocks (the relay reserves no others). Empty for an order not reviewed yet.
    fn reserved_for(&self, order_id: &DocumentId, inventory: &Inventory) -> Result<BTreeMap<String, i64>> {
        let Some((_, review)) = self.order_review(order_id)? else { return Ok(BTreeMap::new()) };
        if review.outcome == ReviewOutcome::Rejected {
            return Ok(BTreeMap::new());
        }
        let heads =
            review.reviewed_heads.iter().map(|h| h.parse()).collect::<std::result::Result<Vec<ChangeHash>, _>>();
        let Ok(heads) = heads else { return Ok(BTreeMap::new()) };
        let reviewed: Order = {
            let mut inner = self.lock();
            let doc = inner.load(order_id, DocKind::Order)?;
            // A device that does not hold the reviewed heads (another device's order) knows nothing.
            let Ok(at) = doc.fork_at(&heads) else { return Ok(BTreeMap::new()) };
            doc::read(order_id, &at)?
        };
        let mut units = reviewed.units_by_sku();
        units.retain(|sku, _| inventory.levels.contains_key(sku));
        Ok(units)
    }

    /// The stock view of a region on this device: the inventory document of that region with the
    /// smallest id (the relay picks the same one).
    fn region_inventory(&self, region: &str) -> Result<Option<Inventory>> {
        let by_id: BTreeMap<String, Inventory> = self
            .inventories()?
            .into_iter()
            .filter(|(_, inventory)| inventory.region == region)
            .map(|(id, inventory)| (id.to_string(), inventory))
            .collect();
        Ok(by_id.into_values().next())
    }
}
