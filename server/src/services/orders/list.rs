//! Orders as lists show them: one query language for the dashboard's orders page, its CSV
//! export and `GET /v1/orders`, read from the read model in the asker's scope.

use fieldsync_core::DocKind;
use serde::Deserialize;

use crate::error::Result;
use crate::locale::Locale;
use crate::scope::Scope;
use crate::services::listing;
use crate::services::orders::number;
use crate::storage::Storage;
use crate::storage::queries::{
    self, Cursor, OrderFilter, OrderLineRow, OrderListRow, OrderSearch, OrderSort, OrderTotals, Page,
};

/// Every status an order can have in a list.
pub const STATUSES: [&str; 5] = ["draft", "submitted", "needs-approval", "approved", "rejected"];

/// An orders query as a URL carries it. Every field is optional; a bad one is refused with a
/// message naming it (nothing is silently ignored).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// One of [`STATUSES`].
    pub status: Option<String>,
    /// A store id.
    pub store: Option<String>,
    /// A rep's user id.
    pub rep: Option<String>,
    /// A region.
    pub region: Option<String>,
    /// First local day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last local day, `YYYY-MM-DD` (included).
    pub to: Option<String>,
    /// Text to find in the store name, rep, SKU or product name, or an order number (whole).
    pub q: Option<String>,
    /// `newest` (default), `oldest` or `largest`.
    pub sort: Option<String>,
    /// The cursor of the page to show (from the previous page's `next`).
    pub after: Option<String>,
    /// Rows per page.
    pub limit: Option<String>,
    /// `me`: only orders waiting on the asker's approval.
    pub waiting: Option<String>,
}

/// A parsed, validated orders query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    /// Which orders.
    pub filter: OrderFilter,
    /// In which order.
    pub sort: OrderSort,
    /// From where.
    pub after: Option<Cursor>,
    /// How many.
    pub limit: u32,
}

impl OrderQuery {
    /// The query as a request in `scope`, days counted in `locale`; `default_limit` and
    /// `max_limit` are the edge's page sizes.
    pub fn parse(&self, scope: &Scope, locale: &Locale, default_limit: u32, max_limit: u32) -> Result<OrderRequest> {
        let (from, to) = listing::date_range(locale, self.from.as_deref(), self.to.as_deref())?;
        let sort = match listing::one_of("sort", self.sort.as_deref(), &["newest", "oldest", "largest"])? {
            None => OrderSort::Newest,
            Some(name) => OrderSort::parse(&name).unwrap_or_default(),
        };
        let waiting_on = listing::one_of("waiting", self.waiting.as_deref(), &["me"])?.map(|_| scope.user_id.clone());
        let filter = OrderFilter {
            reach: listing::reach(scope, DocKind::Order),
            status: listing::one_of("status", self.status.as_deref(), &STATUSES)?,
            store_id: listing::id("store", self.store.as_deref())?,
            rep: listing::id("rep", self.rep.as_deref())?,
            region: listing::id("region", self.region.as_deref())?,
            from,
            to,
            text: listing::search_text(self.q.as_deref())?
                .map(|text| OrderSearch { number: number::named_in(&text), text }),
            waiting_on,
            submitted: false,
        };
        Ok(OrderRequest {
            filter,
            sort,
            after: listing::cursor(self.after.as_deref())?,
            limit: listing::limit(self.limit.as_deref(), default_limit, max_limit)?,
        })
    }

    /// The query's filters as URL parameters (no cursor, no limit): for links to exports and
    /// to the next page.
    pub fn filter_params(&self) -> Vec<(&'static str, String)> {
        [
            ("status", &self.status),
            ("store", &self.store),
            ("rep", &self.rep),
            ("region", &self.region),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
            ("sort", &self.sort),
            ("waiting", &self.waiting),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(|v| (name, v.to_owned()))
        })
        .collect()
    }
}

/// One page of the orders a request asks for.
pub async fn page(storage: &dyn Storage, tenant_id: i64, request: &OrderRequest) -> Result<Page<OrderListRow>> {
    queries::list_orders(storage, tenant_id, &request.filter, request.sort, request.after.as_ref(), request.limit).await
}

/// The lines of `orders` (a page's orders, which the caller's request already scoped), by order
/// and then as the order lists them, each with its product's name.
pub async fn lines_of(storage: &dyn Storage, tenant_id: i64, orders: &[String]) -> Result<Vec<OrderLineRow>> {
    queries::lines_of_orders(storage, tenant_id, orders).await
}

/// Count and value of every order a request's filter covers (all pages).
pub async fn totals(storage: &dyn Storage, tenant_id: i64, request: &OrderRequest) -> Result<OrderTotals> {
    queries::order_totals(storage, tenant_id, &request.filter).await
}
