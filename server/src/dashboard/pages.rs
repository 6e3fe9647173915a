//! The dashboard pages: login and logout, overview, orders (with the approve / reject forms of
//! [`super::decisions`]), inspections, devices. The stores page is in [`super::stores`].
//!
//! Every handler takes a [`Viewer`] (a valid dashboard session of a non-rep), checks its
//! [`Section`], and reads documents only through [`records`], i.e. the viewer's scope. Every
//! user-provided string goes through [`esc`].

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::net::SocketAddr;

use axum::Form;
use axum::extract::rejection::{ExtensionRejection, FormRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{
    AnswerValue, Inbox, Inspection, InspectionScore, Order, OrderReview, OrderStatus, Severity, StepState, Template,
    Trust,
};

use serde::Deserialize;

use super::html::{NavItem, age, duration, esc, page, url_param};
use super::records::{self, GpsPrecision, Names, Record, by_subject, gps_precision, load_kind, load_one, show_fix};
use super::session::{self, Viewer};
use super::{DashError, Section};
use crate::accounts::{self, LoginRequest};
use crate::locale::{self, Locale};
use crate::state::AppState;

/// A device that has not synced for this long may hold work the relay has not seen.
pub const STALE_AFTER_MS: i64 = 4 * 3_600_000;
/// The overview's period for coverage and inspections, in days.
pub const PERIOD_DAYS: i64 = 7;
/// Most rows the orders page lists (the summary, the chart and the CSV cover every filtered
/// order): a page of a thousand rows is slow to render and to refresh live, and nobody reads it.
pub const ORDERS_SHOWN: usize = 200;

fn nav(role: Role) -> Vec<NavItem> {
    let mut items = vec![NavItem { href: "/", label: "Overview" }];
    if Section::Orders.allows(role) {
        items.push(NavItem { href: "/dashboard/orders", label: "Orders" });
    }
    if Section::Inspections.allows(role) {
        items.push(NavItem { href: "/dashboard/inspections", label: "Inspections" });
    }
    if Section::Stores.allows(role) {
        items.push(NavItem { href: "/dashboard/stores", label: "Stores" });
    }
    if Section::Devices.allows(role) {
        items.push(NavItem { href: "/dashboard/devices", label: "Devices" });
    }
    items
}

/// A page in the dashboard's frame: the viewer's navigation, name and logout form around `body`.
pub fn frame(viewer: &Viewer, title: &str, current: &str, body: &str) -> Response {
    let who = format!("{} ({})", viewer.caller.username, viewer.caller.role);
    page(title, &nav(viewer.caller.role), current, Some((&who, &viewer.csrf)), body)
}

// ---------------------------------------------------------------------------------------------
// Login and logout

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    /// Tenant name.
    pub tenant: String,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// Double-submit token (equal to the login CSRF cookie).
    pub csrf: String,
}

fn login_page(secure: bool, status: StatusCode, error: Option<&str>, tenant: &str, username: &str) -> Response {
    let token = session::random_token();
    let error = error.map(|e| format!("<p class=\"error\" id=\"login-error\">{}</p>", esc(e))).unwrap_or_default();
    let body = format!(
        "<form class=\"login\" method=\"post\" action=\"/dashboard/login\"><h1>Sign in</h1>{error}\
         <p class=\"note\">For HQ, managers and supervisors. Reps use the phone app.</p>\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <label for=\"tenant\">Company</label><input id=\"tenant\" name=\"tenant\" value=\"{}\" required autocomplete=\"organization\">\
         <label for=\"username\">Username</label><input id=\"username\" name=\"username\" value=\"{}\" required autocomplete=\"username\">\
         <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" required autocomplete=\"current-password\">\
         <p><button class=\"primary\" type=\"submit\" id=\"sign-in\">Sign in</button></p></form>",
        esc(tenant),
        esc(username)
    );
    let mut response = page("Sign in", &[], "", None, &body);
    *response.status_mut() = status;
    if let Ok(cookie) = HeaderValue::from_str(&session::login_csrf_cookie(&token, secure)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /dashboard/login`: the form (or the overview, for a logged-in user).
pub async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session::session_token(&headers)
        && accounts::authenticate(state.storage.as_ref(), token).await.is_ok_and(|c| c.role != Role::Rep)
    {
        return Redirect::to("/").into_response();
    }
    login_page(state.config.behind_https, StatusCode::OK, None, "", "")
}

/// `POST /dashboard/login`: checks the double-submit token and the credentials, refuses reps,
/// and sets the session cookie.
pub async fn login(
    State(state): State<AppState>,
    connect: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, DashError> {
    let Ok(Form(form)) = form else {
        return Ok(login_page(
            state.config.behind_https,
            StatusCode::BAD_REQUEST,
            Some("the form was incomplete; try again"),
            "",
            "",
        ));
    };
    let cookie = session::cookie(&headers, session::LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie.is_empty() || !session::same_secret(cookie, &form.csrf) {
        return Ok(login_page(
            state.config.behind_https,
            StatusCode::FORBIDDEN,
            Some("the sign-in form expired; please sign in again"),
            &form.tenant,
            &form.username,
        ));
    }
    let request = LoginRequest {
        tenant: form.tenant.trim().to_owned(),
        username: form.username.trim().to_owned(),
        password: form.password,
        device_name: session::DEVICE_NAME.to_owned(),
    };
    let peer = connect.ok().map(|ConnectInfo(address)| address);
    let client = crate::http::client_address::client_address(peer, &headers, &state.config.trusted_proxies);
    let result = accounts::login(state.storage.as_ref(), &state.login_limiter, &state.config, &request, client).await;
    state.metrics.login(result.is_ok());
    let answer = match result {
        Ok(answer) => answer,
        Err(crate::Error::BadCredentials) => {
            return Ok(login_page(
                state.config.behind_https,
                StatusCode::UNAUTHORIZED,
                Some("wrong company, username or password"),
                &request.tenant,
                &request.username,
            ));
        }
        Err(crate::Error::RateLimited { retry_after_secs }) => {
            return Ok(login_page(
                state.config.behind_https,
                StatusCode::TOO_MANY_REQUESTS,
                Some(&format!("too many failed sign-ins; try again in {retry_after_secs} s")),
                &request.tenant,
                &request.username,
            ));
        }
        Err(other) => return Err(other.into()),
    };
    if answer.role == Role::Rep.as_str() {
        // A rep's session has no use here: end it at once.
        accounts::logout(state.storage.as_ref(), &answer.token).await?;
        return Err(DashError::Forbidden(
            "reps use the FieldSync phone app; the dashboard is for HQ, managers and supervisors".into(),
        ));
    }
    let max_age = answer.expires_at.saturating_sub(now_ms()) / 1000;
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    if let Ok(value) =
        HeaderValue::from_str(&session::session_cookie(&answer.token, max_age, state.config.behind_https))
    {
        headers.append(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    pub csrf: String,
}

/// `POST /dashboard/logout`: revokes the session (CSRF-checked) and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, DashError> {
    let valid = form.is_ok_and(|Form(f)| session::same_secret(&f.csrf, &viewer.csrf));
    if !valid {
        return Err(DashError::Forbidden("the form's security token is missing or wrong; reload and try again".into()));
    }
    if let Some(token) = session::session_token(&headers) {
        accounts::logout(state.storage.as_ref(), token).await?;
    }
    let mut response = Redirect::to("/dashboard/login").into_response();
    if let Ok(value) = HeaderValue::from_str(&session::clear_session_cookie(state.config.behind_https)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// Orders, shared between pages

/// An order with its review and what it is for display.
pub struct OrderRow {
    /// The order.
    pub order: Record<Order>,
    /// Its review, if the relay wrote one.
    pub review: Option<Record<OrderReview>>,
}

impl OrderRow {
    /// The order's readable number (`N-000123`), once the relay reviewed it; empty before.
    pub fn number(&self) -> &str {
        self.review.as_ref().map_or("", |review| review.value.number.as_str())
    }

    /// `draft`, `submitted` (not reviewed yet), or the review's outcome for this submission.
    pub fn status(&self) -> &'static str {
        let order = &self.order.value;
        match (&order.status, &self.review) {
            (OrderStatus::Draft, _) => "draft",
            (OrderStatus::Submitted, Some(review)) if review.value.submission == order.submission => {
                review.value.outcome.as_str()
            }
            (OrderStatus::Submitted, _) => "submitted",
        }
    }

    /// When the order was last submitted, or created.
    pub fn at(&self) -> i64 {
        self.order.value.submitted_at.unwrap_or(self.order.value.created_at)
    }
}

/// Every status an order row can have, for the filter.
pub const ORDER_STATUSES: [&str; 5] = ["draft", "submitted", "needs-approval", "approved", "rejected"];

/// Orders in the viewer's scope with their reviews, newest first.
pub async fn order_rows(state: &AppState, viewer: &Viewer) -> Result<Vec<OrderRow>, DashError> {
    let orders = load_kind::<Order>(state, &viewer.caller).await?;
    let mut reviews = by_subject(load_kind::<OrderReview>(state, &viewer.caller).await?);
    let mut rows: Vec<OrderRow> = orders
        .into_iter()
        .map(|order| {
            let review = reviews.remove(order.id.as_str());
            OrderRow { order, review }
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.at()));
    Ok(rows)
}

fn status_tag(status: &str) -> String {
    let class = match status {
        "approved" => "ok",
        "needs-approval" | "submitted" => "warn",
        "rejected" => "bad",
        _ => "",
    };
    format!("<span class=\"tag {class}\">{}</span>", esc(status))
}

fn orders_table(id: &str, rows: &[&OrderRow], names: &Names, locale: &Locale) -> String {
    let mut html = format!(
        "<table id=\"{id}\" data-live-region><thead><tr><th>Order</th><th>When</th><th>Store</th><th>Rep</th>\
         <th>Status</th><th class=\"n\">Lines</th><th class=\"n\">Value</th></tr></thead><tbody>"
    );
    if rows.is_empty() {
        html.push_str("<tr><td colspan=\"7\" class=\"muted\">No orders yet.</td></tr>");
    }
    for row in rows {
        let order = &row.order.value;
        let _ = write!(
            html,
            "<tr data-id=\"{id}\"><td><a href=\"/dashboard/orders/{id}\">{number}</a></td><td>{when}</td><td>{store}</td>\
             <td>{rep}</td><td>{status}</td><td class=\"n\">{lines}</td><td class=\"n\">{value}</td></tr>",
            id = esc(row.order.id.as_str()),
            number = if row.number().is_empty() { "not reviewed yet".to_owned() } else { esc(row.number()) },
            when = esc(&locale.datetime(row.at())),
            store = esc(&names.store(&order.store_id)),
            rep = esc(&names.user(&order.owner)),
            status = status_tag(row.status()),
            lines = order.lines.len(),
            value = locale.money(order.total_cents()),
        );
    }
    html.push_str("</tbody></table>");
    html
}

// ---------------------------------------------------------------------------------------------
// Overview

/// `GET /`: today's orders, approvals pending, inspections and their score, store coverage,
/// open alerts, the orders-per-day chart and the latest orders (live).
pub async fn overview(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    overview_at(&state, &viewer, now_ms()).await
}

/// The overview as it reads at `now`: "today" and the period are local days of the tenant.
pub async fn overview_at(state: &AppState, viewer: &Viewer, now: i64) -> Result<Response, DashError> {
    Section::Overview.check(&viewer.caller)?;
    let locale = locale::of_tenant(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let today = locale.start_of_days_back(now, 0);
    let tomorrow = locale.start_of_days_back(now, -1);
    let period_start = locale.start_of_days_back(now, PERIOD_DAYS - 1);
    let names = Names::load(state, &viewer.caller).await?;
    let sees_orders = Section::Orders.allows(viewer.caller.role);
    let rows = if sees_orders { order_rows(state, viewer).await? } else { Vec::new() };
    let inspections = load_kind::<Inspection>(state, &viewer.caller).await?;
    let scores = by_subject(load_kind::<InspectionScore>(state, &viewer.caller).await?);
    let inboxes = load_kind::<Inbox>(state, &viewer.caller).await?;

    let mut kpis = String::new();
    let mut kpi = |id: &str, value: String, label: &str| {
        let _ = write!(
            kpis,
            "<div class=\"kpi\" id=\"{id}\"><div class=\"v\">{}</div><div class=\"l\">{}</div></div>",
            esc(&value),
            esc(label)
        );
    };
    if sees_orders {
        let todays: Vec<&OrderRow> = rows
            .iter()
            .filter(|r| r.order.value.status == OrderStatus::Submitted && (today..tomorrow).contains(&r.at()))
            .collect();
        let value: i64 = todays.iter().map(|r| r.order.value.total_cents()).fold(0, i64::saturating_add);
        kpi("kpi-orders-today", todays.len().to_string(), "orders today");
        kpi("kpi-value-today", locale.money(value), "value today");
        let pending = rows.iter().filter(|r| r.status() == "needs-approval").count();
        kpi("kpi-approvals", pending.to_string(), "approvals pending");
    }
    let recent: Vec<&Record<Inspection>> = inspections.iter().filter(|i| i.value.check_in.at >= period_start).collect();
    kpi("kpi-inspections", recent.len().to_string(), &format!("inspections, {PERIOD_DAYS} days"));
    let scored: Vec<f64> = recent.iter().filter_map(|i| scores.get(i.id.as_str())).map(|s| s.value.score).collect();
    if !scored.is_empty() {
        let average = scored.iter().sum::<f64>() / scored.len() as f64;
        kpi("kpi-score", format!("{average:.1}"), &format!("average score ({} scored)", scored.len()));
    }
    if sees_orders {
        let times = super::svg::approval_times(&rows);
        if let Some(median) = super::svg::median(&times) {
            kpi("kpi-approval-time", duration(median), &format!("median approval time ({} decided)", times.len()));
        }
    }
    // Coverage as the stores page counts it: the stores the viewer looks after, visited by an
    // inspection in the period.
    let looked_after = super::stores::stores_in_view(state, &viewer.caller).await?;
    if !looked_after.is_empty() {
        let visits = super::stores::visits_by_store(&inspections, &scores, period_start);
        let (_, total) = super::stores::coverage(&looked_after, &visits);
        kpi(
            "kpi-coverage",
            format!("{}%", total.percent()),
            &format!("store coverage: {} of {} visited, {PERIOD_DAYS} days", total.visited, total.stores),
        );
    }
    let open_alerts: Vec<_> =
        inboxes.iter().flat_map(|inbox| inbox.value.open_alerts().map(move |(_, a)| (&inbox.value.owner, a))).collect();
    if !open_alerts.is_empty() {
        kpi("kpi-alerts", open_alerts.len().to_string(), "open alerts");
    }

    let mut body = format!(
        "<h1>Overview</h1><p class=\"note\">Times in {}; amounts in {}. Today started {}.</p>\
         <div class=\"kpis\" id=\"kpis\" data-live-region>{kpis}</div>",
        esc(&locale.zone_label(now)),
        esc(locale.currency()),
        esc(&locale.datetime(today))
    );
    if sees_orders {
        let days = super::svg::orders_per_day_counts(&rows, now, super::svg::CHART_DAYS, &locale);
        let _ = write!(
            body,
            "<h2>Orders per day</h2><div class=\"chart\" id=\"orders-chart\" data-live-region>{}</div>\
             <h2>Latest orders <a class=\"note\" href=\"/dashboard/orders.csv\">CSV</a></h2>{}",
            super::svg::bar_chart(&days, locale.time_zone()),
            orders_table("live-orders", &rows.iter().take(15).collect::<Vec<_>>(), &names, &locale)
        );
    }
    let _ = write!(
        body,
        "<h2>Inspection scores, {PERIOD_DAYS} days</h2><div class=\"chart\" id=\"score-chart\" data-live-region>{}</div>",
        super::svg::score_chart(&scored, &format!("last {PERIOD_DAYS} days"))
    );
    if sees_orders {
        let _ = write!(
            body,
            "<h2>Approval times</h2><div class=\"chart\" id=\"approval-chart\" data-live-region>{}</div>",
            super::svg::approval_chart(&super::svg::approval_times(&rows))
        );
    }
    if !open_alerts.is_empty() {
        body.push_str("<h2>Open alerts</h2><table id=\"alerts\"><thead><tr><th>Raised</th><th>For</th><th>Alert</th><th>Detail</th></tr></thead><tbody>");
        for (owner, alert) in open_alerts.iter().take(20) {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&locale.datetime(alert.raised_at)),
                esc(&names.user(owner)),
                esc(&alert.title),
                esc(&alert.detail)
            );
        }
        body.push_str("</tbody></table>");
    }
    Ok(frame(viewer, "Overview", "/", &body))
}

// ---------------------------------------------------------------------------------------------
// Orders

/// Filters of the orders page.
#[derive(Debug, Default, Deserialize)]
pub struct OrderQuery {
    /// One of [`ORDER_STATUSES`].
    pub status: Option<String>,
    /// A store id.
    pub store: Option<String>,
}

impl OrderQuery {
    /// The filters of a request; an unknown status or an empty store filters nothing.
    pub fn from_request(query: Result<Query<OrderQuery>, QueryRejection>) -> Self {
        let Query(query) = query.unwrap_or_default();
        Self {
            status: query.status.filter(|s| ORDER_STATUSES.contains(&s.as_str())),
            store: query.store.filter(|s| !s.is_empty()),
        }
    }

    /// Whether an order row passes the filters.
    pub fn keeps(&self, row: &OrderRow) -> bool {
        self.status.as_deref().is_none_or(|s| row.status() == s)
            && self.store.as_deref().is_none_or(|s| row.order.value.store_id == s)
    }
}

/// `GET /dashboard/orders?status=&store=`.
pub async fn orders(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<OrderQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let filter = OrderQuery::from_request(query);
    let locale = locale::of_tenant(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let names = Names::load(&state, &viewer.caller).await?;
    let rows = order_rows(&state, &viewer).await?;
    let shown: Vec<&OrderRow> = rows.iter().filter(|r| filter.keeps(r)).collect();
    let OrderQuery { status, store } = filter;
    let mut status_options = String::from("<option value=\"\">any</option>");
    for s in ORDER_STATUSES {
        let selected = if status.as_deref() == Some(s) { " selected" } else { "" };
        let _ = write!(status_options, "<option{selected}>{s}</option>");
    }
    let mut store_options = String::from("<option value=\"\">any</option>");
    for (id, name) in &names.stores {
        let selected = if store.as_deref() == Some(id.as_str()) { " selected" } else { "" };
        let _ = write!(store_options, "<option value=\"{}\"{selected}>{}</option>", esc(id), esc(name));
    }
    let mut csv_link = String::from("/dashboard/orders.csv");
    let params: Vec<String> = [("status", &status), ("store", &store)]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", url_param(v))))
        .collect();
    if !params.is_empty() {
        csv_link = format!("{csv_link}?{}", params.join("&"));
    }
    let total: i64 = shown.iter().map(|r| r.order.value.total_cents()).fold(0, i64::saturating_add);
    let body = format!(
        "<h1>Orders</h1><form class=\"filters\" method=\"get\"><label>Status<select name=\"status\" id=\"filter-status\">{status_options}</select></label>\
         <label>Store<select name=\"store\" id=\"filter-store\">{store_options}</select></label><button class=\"primary\" type=\"submit\">Filter</button>\
         <a href=\"{}\" id=\"orders-csv\">Export CSV</a></form>\
         <p class=\"note\" id=\"orders-summary\">{} orders, {} in total (the newest {} in your scope are considered; \
         the table lists the newest {ORDERS_SHOWN}, the CSV all of them).</p>{}\
         <h2>Approval times of these orders</h2><div class=\"chart\" id=\"approval-chart\" data-live-region>{}</div>",
        esc(&csv_link),
        shown.len(),
        locale.money(total),
        records::LIST_LIMIT,
        orders_table("live-orders", shown.get(..ORDERS_SHOWN).unwrap_or(&shown), &names, &locale),
        super::svg::approval_chart(&super::svg::approval_times(shown.iter().copied()))
    );
    Ok(frame(&viewer, "Orders", "/dashboard/orders", &body))
}

/// A message shown at the top of a page after a form was posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// What was done.
    Done(String),
    /// Why it was refused (nothing changed).
    Error(String),
}

impl Notice {
    fn html(&self) -> String {
        match self {
            Notice::Done(text) => format!("<p class=\"notice\" id=\"notice\">{}</p>", esc(text)),
            Notice::Error(text) => format!("<p class=\"error\" id=\"decision-error\">{}</p>", esc(text)),
        }
    }
}

/// The query of an order's page: `decided` names the outcome after the viewer's decision.
#[derive(Debug, Default, Deserialize)]
pub struct OrderPageQuery {
    /// The review's outcome after a decision made on this page.
    pub decided: Option<String>,
}

/// `GET /dashboard/orders/{id}`: lines, verdict findings, approval steps, and the approve /
/// reject forms for the approver of the current step.
pub async fn order(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    query: Result<Query<OrderPageQuery>, QueryRejection>,
) -> Result<Response, DashError> {
    let Query(query) = query.unwrap_or_default();
    let notice = query.decided.and_then(|outcome| match outcome.as_str() {
        "approved" => Some(Notice::Done("Your decision is recorded: the order is approved.".to_owned())),
        "rejected" => Some(Notice::Done("Your decision is recorded: the order is rejected.".to_owned())),
        "needs-approval" => {
            Some(Notice::Done("Your approval is recorded: the next step waits for its approver.".to_owned()))
        }
        _ => None,
    });
    order_page(&state, &viewer, &id, notice).await
}

/// An order's page, with `notice` on top (see [`order`]). The review is loaded by its derived
/// id, not by listing reviews, so the page costs the same with a million orders.
pub async fn order_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    notice: Option<Notice>,
) -> Result<Response, DashError> {
    Section::Orders.check(&viewer.caller)?;
    let locale = locale::of_tenant(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let order = load_one::<Order>(state, &viewer.caller, id).await?;
    let names = Names::load(state, &viewer.caller).await?;
    let review_id =
        crate::jobs::review_order::find_review(state.storage.as_ref(), viewer.caller.tenant_id, order.id.as_str())
            .await?
            .id;
    let review = match load_one::<OrderReview>(state, &viewer.caller, review_id.as_str()).await {
        Ok(review) => Some(review),
        Err(crate::Error::NotFound { .. }) => None,
        Err(other) => return Err(other.into()),
    };
    let row = OrderRow { order, review };
    let o = &row.order.value;
    let number = if row.number().is_empty() { String::new() } else { format!("{} ", esc(row.number())) };
    let mut body = format!(
        "<h1>Order {}for {}</h1>{}<p>Rep <b>{}</b> · created {} · {} · submission {} · status <span id=\"order-status\">{}</span></p>",
        number,
        esc(&names.store(&o.store_id)),
        notice.as_ref().map(Notice::html).unwrap_or_default(),
        esc(&names.user(&o.owner)),
        esc(&locale.datetime(o.created_at)),
        o.submitted_at.map_or_else(|| "not submitted".to_owned(), |t| format!("submitted {}", locale.datetime(t))),
        o.submission,
        status_tag(row.status())
    );
    if !o.notes.is_empty() {
        let _ = write!(body, "<p class=\"note\">Notes: {}</p>", esc(&o.notes));
    }
    body.push_str(
        "<h2>Lines</h2><table id=\"order-lines\"><thead><tr><th>SKU</th><th class=\"n\">Qty</th><th class=\"n\">Unit price</th>\
         <th class=\"n\">Discount</th><th class=\"n\">Total</th></tr></thead><tbody>",
    );
    for (_, line) in o.lines_in_order() {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.2}%</td><td class=\"n\">{}</td></tr>",
            esc(&line.sku),
            line.qty,
            locale.money(line.unit_price_cents),
            line.discount_bp as f64 / 100.0,
            locale.money(line.total_cents())
        );
    }
    let _ = write!(
        body,
        "<tr><th colspan=\"4\">Total</th><th class=\"n\">{}</th></tr></tbody></table>",
        locale.money(o.total_cents())
    );
    match &row.review {
        None => body.push_str("<h2>Review</h2><p class=\"note\">The relay has not reviewed this order yet.</p>"),
        Some(review) => {
            let r = &review.value;
            let _ = write!(
                body,
                "<h2>Review</h2><p>Outcome {} for submission {} · reviewed {} · priced at {}</p>",
                status_tag(r.outcome.as_str()),
                r.submission,
                esc(&locale.datetime(r.reviewed_at)),
                locale.money(r.total_cents)
            );
            body.push_str(
                "<table id=\"findings\"><thead><tr><th>Severity</th><th>Finding</th><th>Code</th></tr></thead><tbody>",
            );
            if r.findings.is_empty() {
                body.push_str("<tr><td colspan=\"3\" class=\"muted\">No findings.</td></tr>");
            }
            for f in &r.findings {
                let (class, text) = match f.severity {
                    Severity::Info => ("", "info"),
                    Severity::Warning => ("warn", "warning"),
                    Severity::Error => ("bad", "error"),
                };
                let _ = write!(
                    body,
                    "<tr><td><span class=\"tag {class}\">{text}</span></td><td>{}</td><td>{}</td></tr>",
                    esc(&f.text),
                    esc(&f.code)
                );
            }
            body.push_str("</tbody></table><h2>Approval steps</h2><table id=\"steps\"><thead><tr><th>#</th><th>Approver</th><th>Rule</th><th>State</th><th>Decided</th><th>Reason</th></tr></thead><tbody>");
            if r.steps.is_empty() {
                body.push_str("<tr><td colspan=\"6\" class=\"muted\">No approval needed.</td></tr>");
            }
            for (i, step) in r.steps.iter().enumerate() {
                let state = match step.state {
                    StepState::Pending => "pending",
                    StepState::Approved => "approved",
                    StepState::Rejected => "rejected",
                };
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    i + 1,
                    esc(&names.user(&step.approver)),
                    esc(&step.role),
                    esc(&step.rule),
                    status_tag(if state == "pending" { "needs-approval" } else { state }),
                    step.decided_at.map(|t| locale.datetime(t)).unwrap_or_default(),
                    esc(&step.reason)
                );
            }
            body.push_str("</tbody></table>");
            if row.status() == "needs-approval" {
                body.push_str(&super::decisions::forms(viewer, row.order.id.as_str(), r));
            }
        }
    }
    Ok(frame(viewer, "Order", "/dashboard/orders", &body))
}

// ---------------------------------------------------------------------------------------------
// Inspections

/// `GET /dashboard/inspections`.
pub async fn inspections(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    Section::Inspections.check(&viewer.caller)?;
    let locale = locale::of_tenant(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let names = Names::load(&state, &viewer.caller).await?;
    let mut list = load_kind::<Inspection>(&state, &viewer.caller).await?;
    list.sort_by_key(|i| std::cmp::Reverse(i.value.check_in.at));
    let scores = by_subject(load_kind::<InspectionScore>(&state, &viewer.caller).await?);
    let mut body = String::from(
        "<h1>Inspections <a class=\"note\" href=\"/dashboard/inspections.csv\" id=\"inspections-csv\">Export CSV</a></h1>\
         <table id=\"live-inspections\" data-live-region><thead><tr><th>Checked in</th><th>Store</th><th>Supervisor</th><th>Status</th>\
         <th class=\"n\">Answers</th><th class=\"n\">Photos</th><th class=\"n\">Score</th></tr></thead><tbody>",
    );
    if list.is_empty() {
        body.push_str("<tr><td colspan=\"7\" class=\"muted\">No inspections yet.</td></tr>");
    }
    for i in &list {
        let v = &i.value;
        let score = scores.get(i.id.as_str()).map(|s| format!("{:.1}", s.value.score)).unwrap_or_else(|| "—".into());
        let _ = write!(
            body,
            "<tr data-id=\"{id}\"><td><a href=\"/dashboard/inspections/{id}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&locale.datetime(v.check_in.at)),
            esc(&names.store(&v.store_id)),
            esc(&names.user(&v.owner)),
            status_tag(v.status.as_str()),
            v.answers.len(),
            v.photos.len(),
            esc(&score),
            id = esc(i.id.as_str()),
        );
    }
    body.push_str("</tbody></table>");
    let all_scores: Vec<f64> = list.iter().filter_map(|i| scores.get(i.id.as_str())).map(|s| s.value.score).collect();
    let _ = write!(
        body,
        "<h2>Score distribution</h2><div class=\"chart\" id=\"score-chart\" data-live-region>{}</div>",
        super::svg::score_chart(&all_scores, "all inspections in your scope")
    );
    Ok(frame(&viewer, "Inspections", "/dashboard/inspections", &body))
}

fn answer_text(value: AnswerValue) -> (&'static str, &'static str) {
    match value {
        AnswerValue::Yes => ("ok", "yes"),
        AnswerValue::No => ("bad", "no"),
        AnswerValue::NotApplicable => ("", "n/a"),
    }
}

/// `GET /dashboard/inspections/{id}`: photos, answers, the score breakdown.
pub async fn inspection(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, DashError> {
    Section::Inspections.check(&viewer.caller)?;
    let locale = locale::of_tenant(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let record = load_one::<Inspection>(&state, &viewer.caller, &id).await?;
    let names = Names::load(&state, &viewer.caller).await?;
    let template: Option<Template> = match record.value.template_id.parse() {
        Ok(template_id) => {
            crate::documents::read(state.storage.as_ref(), viewer.caller.tenant_id, &template_id).await.ok()
        }
        Err(_) => None,
    };
    let score = by_subject(load_kind::<InspectionScore>(&state, &viewer.caller).await?).remove(record.id.as_str());
    let v = &record.value;
    let precision = gps_precision(&viewer.caller, &v.owner);
    let item_text =
        |item: &str| template.as_ref().and_then(|t| t.item(item)).map_or(item.to_owned(), |i| i.text.clone());
    let mut body = format!(
        "<h1>Inspection at {}</h1><p>Supervisor <b>{}</b> · {} · template {}</p>\
         <p>Check-in {} at {}{}</p>",
        esc(&names.store(&v.store_id)),
        esc(&names.user(&v.owner)),
        status_tag(v.status.as_str()),
        esc(template.as_ref().map_or("unknown", |t| t.name.as_str())),
        esc(&locale.datetime(v.check_in.at)),
        esc(&show_fix(&v.check_in.position, precision)),
        v.check_out
            .map(|out| format!(
                " · check-out {} at {}",
                esc(&locale.datetime(out.at)),
                esc(&show_fix(&out.position, precision))
            ))
            .unwrap_or_default()
    );
    if precision == GpsPrecision::Rounded {
        body.push_str("<p class=\"note\">Coordinates are rounded for your role.</p>");
    }
    body.push_str("<h2>Photos</h2><div class=\"photos\" id=\"photos\">");
    if v.photos.is_empty() {
        body.push_str("<p class=\"muted\">No photos.</p>");
    }
    let mut photos: Vec<_> = v.photos.values().collect();
    photos.sort_by_key(|p| p.captured_at);
    for photo in photos {
        let sha = esc(&photo.sha256);
        let _ = write!(
            body,
            "<figure><a class=\"photo\" href=\"/v1/blobs/{sha}\"><img src=\"/v1/blobs/{sha}?thumb=1\" alt=\"photo for {item}\" loading=\"lazy\"></a>\
             <figcaption>{item}<br>{w}×{h} · {at}{pos}</figcaption></figure>",
            item = esc(&item_text(&photo.item_id)),
            w = photo.width,
            h = photo.height,
            at = esc(&locale.datetime(photo.captured_at)),
            pos = photo.position.map(|p| format!("<br>{}", esc(&show_fix(&p, precision)))).unwrap_or_default(),
        );
    }
    body.push_str("</div><h2>Answers</h2><table id=\"answers\"><thead><tr><th>Item</th><th>Answer</th><th class=\"n\">Count</th><th>Note</th><th>Answered</th></tr></thead><tbody>");
    let mut order: Vec<String> = template
        .as_ref()
        .map(|t| t.items_in_order().into_iter().map(|(id, _)| id.clone()).collect())
        .unwrap_or_default();
    order.extend(v.answers.keys().filter(|k| !order.contains(k)).cloned().collect::<Vec<_>>());
    for item in &order {
        match v.answers.get(item) {
            Some(answer) => {
                let (class, text) = answer_text(answer.value);
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td><span class=\"tag {class}\">{text}</span></td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&item_text(item)),
                    answer.count.map(|c| c.to_string()).unwrap_or_default(),
                    esc(&answer.note),
                    esc(&locale.datetime(answer.answered_at))
                );
            }
            None => {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td class=\"muted\">not answered</td><td></td><td></td><td></td></tr>",
                    esc(&item_text(item))
                );
            }
        }
    }
    body.push_str("</tbody></table><h2>Score</h2>");
    match score {
        None => body.push_str("<p class=\"note\" id=\"score\">Not scored yet: the relay scores an inspection after check-out, once its photos arrived.</p>"),
        Some(score) => {
            let s = &score.value;
            let _ = write!(
                body,
                "<p id=\"score\"><b>{:.1}</b> (scoring version {}, {})</p>",
                s.score,
                s.scoring_version,
                esc(&locale.datetime(s.scored_at))
            );
            for reason in &s.reasons {
                let _ = write!(body, "<p class=\"note\">{}</p>", esc(reason));
            }
            body.push_str("<table id=\"score-items\"><thead><tr><th>Item</th><th class=\"n\">Earned</th><th class=\"n\">Weight</th><th>Why</th></tr></thead><tbody>");
            for item in &s.items {
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.2}</td><td>{}</td></tr>",
                    esc(&item_text(&item.item_id)),
                    item.earned,
                    item.weight,
                    esc(&item.reasons.join("; "))
                );
            }
            body.push_str("</tbody></table><table id=\"score-photos\"><thead><tr><th>Photo</th><th class=\"n\">Quality</th><th>Trust</th><th>Why</th></tr></thead><tbody>");
            for photo in &s.photos {
                let (class, trust) = match photo.trust {
                    Trust::Pass => ("ok", "pass"),
                    Trust::Review => ("warn", "review"),
                    Trust::Rejected => ("bad", "rejected"),
                };
                let _ = write!(
                    body,
                    "<tr><td>{}…</td><td class=\"n\">{:.2}</td><td><span class=\"tag {class}\">{trust}</span></td><td>{}</td></tr>",
                    esc(photo.sha256.get(..12).unwrap_or(&photo.sha256)),
                    photo.quality,
                    esc(&photo.reasons.join("; "))
                );
            }
            body.push_str("</tbody></table>");
        }
    }
    Ok(frame(&viewer, "Inspection", "/dashboard/inspections", &body))
}

// ---------------------------------------------------------------------------------------------
// Devices

/// `GET /dashboard/devices`: every device of the users in the viewer's reach, its last sync,
/// and which ones have not synced for more than four hours.
pub async fn devices(State(state): State<AppState>, viewer: Viewer) -> Result<Response, DashError> {
    Section::Devices.check(&viewer.caller)?;
    let locale = locale::of_tenant(state.storage.as_ref(), viewer.caller.tenant_id).await?;
    let now = now_ms();
    let caller = &viewer.caller;
    let users: Vec<_> = state
        .storage
        .list_users(caller.tenant_id)
        .await?
        .into_iter()
        .filter(|u| caller.role == Role::Hq || (u.region.is_some() && u.region == caller.region))
        .collect();
    // The newest order the relay holds per rep: what it has seen of their work.
    let mut last_order: HashMap<String, i64> = HashMap::new();
    for row in load_kind::<Order>(&state, caller).await? {
        let at = row.value.updated_at;
        last_order.entry(row.value.owner).and_modify(|t| *t = (*t).max(at)).or_insert(at);
    }
    let mut body = format!(
        "<h1>Devices</h1><p class=\"note\">The relay records a device as seen on every authenticated request (at most once a minute). \
         It cannot see orders that never reached it: a phone whose last sync is older than {} h may hold unsynced orders, \
         and that is what the flag below says, no more.</p>",
        STALE_AFTER_MS / 3_600_000
    );
    body.push_str(
        "<table id=\"devices\"><thead><tr><th>User</th><th>Role</th><th>Region</th><th>Device</th><th>Last sync</th>\
         <th>Newest order at the relay</th><th>Health</th></tr></thead><tbody>",
    );
    let mut stale_reps = BTreeMap::new();
    for user in &users {
        for device in state.storage.list_devices(caller.tenant_id, &user.id).await? {
            if device.revoked_at.is_some() {
                continue;
            }
            let seen = device.last_seen_at.unwrap_or(device.created_at);
            let stale = now.saturating_sub(seen) > STALE_AFTER_MS;
            let is_browser = device.name == session::DEVICE_NAME;
            if user.role == Role::Rep && !is_browser {
                // A rep is current when any of their phones synced recently.
                stale_reps.entry(user.username.clone()).and_modify(|t: &mut i64| *t = (*t).max(seen)).or_insert(seen);
            }
            let health = if is_browser {
                "<span class=\"tag\">browser</span>".to_owned()
            } else if stale {
                format!("<span class=\"tag bad\">not synced for over {} h</span>", STALE_AFTER_MS / 3_600_000)
            } else {
                "<span class=\"tag ok\">recent</span>".to_owned()
            };
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} <span class=\"muted\">({})</span></td><td>{}</td><td>{health}</td></tr>",
                esc(&user.username),
                user.role,
                esc(user.region.as_deref().unwrap_or("—")),
                esc(&device.name),
                esc(&locale.datetime(seen)),
                esc(&age(seen, now)),
                last_order.get(&user.id).map(|t| esc(&locale.datetime(*t))).unwrap_or_else(|| "—".into()),
            );
        }
    }
    stale_reps.retain(|_, seen| now.saturating_sub(*seen) > STALE_AFTER_MS);
    body.push_str("</tbody></table><h2>Reps who may hold unsynced orders</h2>");
    if stale_reps.is_empty() {
        body.push_str("<p id=\"stale-reps\">None: every rep's phone synced in the last 4 hours.</p>");
    } else {
        body.push_str("<ul id=\"stale-reps\">");
        for (name, seen) in stale_reps {
            let _ = write!(body, "<li>{} — last sync {}</li>", esc(&name), esc(&age(seen, now)));
        }
        body.push_str("</ul>");
    }
    Ok(frame(&viewer, "Devices", "/dashboard/devices", &body))
}
