//! The catalog and stores on the phone, and the price preview shown while a line is entered.

use fieldsync_core::doc::{OrderLine as CoreLine, Product as CoreProduct, RetailStore as CoreStore};

use crate::error::FieldSyncError;
use crate::phone::FieldSyncPhone;

/// A product of the catalog.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Product {
    /// Stock-keeping unit: the product's id.
    pub sku: String,
    /// Display name.
    pub name: String,
    /// Category.
    pub category: String,
    /// Selling unit ("case of 12").
    pub unit: String,
    /// Base unit price, in cents.
    pub base_price_cents: i64,
    /// Whether it can be ordered.
    pub active: bool,
}

/// The price of a line as the phone previews it (see `price_preview` for the rule).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PricePreview {
    /// The product.
    pub sku: String,
    /// Quantity.
    pub qty: i64,
    /// Unit price used, in cents (the catalog's base price).
    pub unit_price_cents: i64,
    /// Line discount in basis points (1250 = 12.5 %).
    pub discount_bp: i64,
    /// `qty` × unit price, in cents.
    pub gross_cents: i64,
    /// What the discount takes off, in cents.
    pub discount_cents: i64,
    /// What the line costs, in cents.
    pub total_cents: i64,
}

/// A retail store (a customer location).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RetailStore {
    /// The store's document id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Short code shown beside the name (`N-014`); empty when HQ has not given one.
    pub code: String,
    /// Street address.
    pub address: String,
    /// The customer account billed for its orders.
    pub customer_id: String,
    /// Sales region.
    pub region: String,
    /// Customer tier (A, B, C).
    pub tier: String,
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// The assigned rep's user id.
    pub rep: String,
    /// The assigned supervisor's user id.
    pub supervisor: String,
    /// Whether the store is still served.
    pub active: bool,
}

#[uniffi::export]
impl FieldSyncPhone {
    /// Products whose SKU, name or category contains `query` (ignoring case), by SKU, at most
    /// `limit`. An empty query lists the catalog. Fails with `NotFound` before the first sync.
    pub fn search_products(&self, query: String, limit: u32) -> Result<Vec<Product>, FieldSyncError> {
        let query = query.to_lowercase();
        let matches = |sku: &str, p: &CoreProduct| {
            [sku, p.name.as_str(), p.category.as_str()].iter().any(|text| text.to_lowercase().contains(&query))
        };
        Ok(self
            .store
            .catalog()?
            .products
            .iter()
            .filter(|(sku, product)| matches(sku, product))
            .take(limit as usize)
            .map(|(sku, product)| Product::new(sku, product))
            .collect())
    }

    /// One product by SKU.
    pub fn product(&self, sku: String) -> Result<Product, FieldSyncError> {
        Ok(Product::new(&sku, &self.store.product(&sku)?))
    }

    /// Previews the price of `qty` units of `sku` with a line discount of `discount_bp`.
    ///
    /// The current rule: the catalog's base price × `qty`, minus the line discount, rounded half
    /// up to the cent — exactly how an order line totals. Price lists, customer prices and
    /// promotions are not applied yet: a fuller pricing engine will come from core, and the
    /// relay's review of a submitted order is what counts.
    pub fn price_preview(&self, sku: String, qty: i64, discount_bp: i64) -> Result<PricePreview, FieldSyncError> {
        let product = self.store.product(&sku)?;
        preview_price(sku, &product, qty, discount_bp)
    }

    /// Every store on the phone (the user's own stores, for a rep), by name.
    pub fn stores(&self) -> Result<Vec<RetailStore>, FieldSyncError> {
        Ok(self.store.stores()?.into_iter().map(|(id, store)| RetailStore::new(id.to_string(), store)).collect())
    }
}

/// The price preview rule, kept in this one function until core has a pricing engine.
fn preview_price(
    sku: String,
    product: &CoreProduct,
    qty: i64,
    discount_bp: i64,
) -> Result<PricePreview, FieldSyncError> {
    if qty < 1 {
        return Err(FieldSyncError::InvalidInput {
            field: "qty".to_owned(),
            reason: format!("quantity {qty} is below 1"),
        });
    }
    if !(0..=10_000).contains(&discount_bp) {
        return Err(FieldSyncError::InvalidInput {
            field: "discount_bp".to_owned(),
            reason: format!("discount {discount_bp} bp is not between 0 and 10000"),
        });
    }
    let unit_price_cents = product.base_price_cents;
    let line = CoreLine { sku: sku.clone(), qty, unit_price_cents, discount_bp, position: 0 };
    let gross_cents = qty.saturating_mul(unit_price_cents);
    let total_cents = line.total_cents();
    Ok(PricePreview {
        sku,
        qty,
        unit_price_cents,
        discount_bp,
        gross_cents,
        discount_cents: gross_cents - total_cents,
        total_cents,
    })
}

impl Product {
    fn new(sku: &str, p: &CoreProduct) -> Self {
        Product {
            sku: sku.to_owned(),
            name: p.name.clone(),
            category: p.category.clone(),
            unit: p.unit.clone(),
            base_price_cents: p.base_price_cents,
            active: p.active,
        }
    }
}

impl RetailStore {
    fn new(id: String, s: CoreStore) -> Self {
        RetailStore {
            id,
            name: s.name,
            code: s.code,
            address: s.address,
            customer_id: s.customer_id,
            region: s.region,
            tier: s.tier,
            latitude: s.latitude,
            longitude: s.longitude,
            rep: s.rep,
            supervisor: s.supervisor,
            active: s.active,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn product(base_price_cents: i64) -> CoreProduct {
        CoreProduct {
            name: "Cold brew".into(),
            category: "drinks".into(),
            unit: "case".into(),
            base_price_cents,
            active: true,
        }
    }

    #[test]
    fn the_preview_is_base_price_times_quantity_minus_the_line_discount() {
        let preview = preview_price("CB-1".into(), &product(999), 3, 1250).unwrap();
        // 2997 × 0.875 = 2622.375, rounded half up like an order line.
        assert_eq!((preview.gross_cents, preview.total_cents, preview.discount_cents), (2997, 2622, 375));
    }

    #[test]
    fn a_preview_refuses_a_zero_quantity_and_an_impossible_discount() {
        assert!(matches!(preview_price("A".into(), &product(100), 0, 0), Err(FieldSyncError::InvalidInput { .. })));
        assert!(matches!(
            preview_price("A".into(), &product(100), 1, 10_001),
            Err(FieldSyncError::InvalidInput { .. })
        ));
    }
}
