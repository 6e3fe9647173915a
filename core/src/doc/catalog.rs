//! `catalog`: products, price lists, customer prices, promotions and the discount policy of a
//! tenant. Written only by HQ (directly or through imports on the relay).
//!
//! Every collection is a map keyed by a stable id (SKU, price-list id, promotion id), so two HQ
//! edits to different products merge; edits to the same product field are last-writer-wins.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use super::{ApprovalPolicy, DocKind, DocumentModel, IndexFields};

/// A product.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Product {
    /// Display name.
    pub name: String,
    /// Category, used by discount policy and promotions.
    pub category: String,
    /// Selling unit ("case of 12").
    pub unit: String,
    /// Base unit price, in cents.
    pub base_price_cents: i64,
    /// Whether it can be ordered.
    pub active: bool,
}

/// A quantity break: from `min_qty` units on, the unit price is `unit_price_cents`.
#[derive(Debug, Clone, PartialEq, Eq, Hydrate, Reconcile)]
pub struct PriceBreak {
    /// Smallest quantity this price applies to.
    pub min_qty: i64,
    /// Unit price, in cents.
    pub unit_price_cents: i64,
}

/// Prices for a customer tier and/or region. An empty tier or region matches any.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct PriceList {
    /// Customer tier it applies to, or empty for any.
    pub tier: String,
    /// Region it applies to, or empty for any.
    pub region: String,
    /// Quantity breaks by SKU, ascending by `min_qty`.
    pub prices: BTreeMap<String, Vec<PriceBreak>>,
}

/// A promotion: a discount on a scope of products and stores for a date range.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Promotion {
    /// Display name.
    pub name: String,
    /// First day it applies, ms since the Unix epoch.
    pub starts_at: i64,
    /// Last moment it applies, ms since the Unix epoch.
    pub ends_at: i64,
    /// SKUs it covers (empty: not limited by SKU).
    pub skus: Vec<String>,
    /// Categories it covers (empty: not limited by category).
    pub categories: Vec<String>,
    /// Stores it covers (empty: not limited by store).
    pub stores: Vec<String>,
    /// Regions it covers (empty: not limited by region).
    pub regions: Vec<String>,
    /// Discount in basis points.
    pub discount_bp: i64,
    /// Higher applies first when promotions stack.
    pub priority: i64,
    /// Whether it combines with other promotions.
    pub stackable: bool,
}

/// Limits on discounts and order size.
#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct DiscountPolicy {
    /// Maximum line discount in basis points, keyed `tier/category` (`*` as a wildcard).
    pub max_discount_bp: BTreeMap<String, i64>,
    /// Smallest order total accepted, in cents.
    pub min_order_cents: i64,
}

/// A tenant's catalog.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Catalog {
    /// Products by SKU.
    pub products: BTreeMap<String, Product>,
    /// Price lists by id.
    pub price_lists: BTreeMap<String, PriceList>,
    /// Negotiated unit prices, by customer id then SKU, in cents.
    pub customer_prices: BTreeMap<String, BTreeMap<String, i64>>,
    /// Promotions by id.
    pub promotions: BTreeMap<String, Promotion>,
    /// Discount limits.
    pub discount_policy: DiscountPolicy,
    /// Which orders need whose approval; `None` (and catalogs written before the field existed):
    /// orders need approval only when validation finds them out of policy.
    #[autosurgeon(missing = "Default::default")]
    pub approval_policy: Option<ApprovalPolicy>,
    /// Bumped by HQ on each published change.
    pub version: u64,
    /// Last change, ms since the Unix epoch.
    pub updated_at: i64,
}

impl Catalog {
    /// A first catalog (version 1) of these products: no price lists, customer prices or
    /// promotions, the default discount limits and no approval policy.
    pub fn with_products(products: BTreeMap<String, Product>, updated_at: i64) -> Self {
        Self {
            products,
            price_lists: BTreeMap::new(),
            customer_prices: BTreeMap::new(),
            promotions: BTreeMap::new(),
            discount_policy: DiscountPolicy::default(),
            approval_policy: None,
            version: 1,
            updated_at,
        }
    }
}

impl DocumentModel for Catalog {
    const KIND: DocKind = DocKind::Catalog;
    const SCHEMA: u64 = 1;

    fn index_fields(&self) -> IndexFields {
        IndexFields {
            updated_at: Some(self.updated_at),
            item_count: i64::try_from(self.products.len()).ok(),
            ..IndexFields::default()
        }
    }
}
