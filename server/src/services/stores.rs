//! HQ's store master data from the admin pages: the store list (search, region, served or not,
//! keyset pages and a count, from the read model), and creating and editing a store. A store is a
//! `store` document written by the relay's own actor, as the CSV import writes it.
//!
//! Every value is checked before anything is written, and a bad one writes nothing:
//! - the code: 1 to [`MAX_CODE_CHARS`] of `A-Z 0-9 -`, starting with a letter or digit
//!   ([`validate_code`]), unique in the tenant (a duplicate is a conflict naming the store that
//!   has it);
//! - the place: latitude −90 to 90, longitude −180 to 180, and a geofence radius of 0 (the
//!   scoring's default) or [`MIN_GEOFENCE_M`] to [`MAX_GEOFENCE_M`] metres ([`validate_geofence`]);
//! - tier, region and names as the import checks them; the rep must be a rep and the supervisor a
//!   supervisor of the tenant; the customer id is unique (the import keys stores by it).

use fieldsync_core::doc::RetailStore;
use fieldsync_core::i18n::Message;
use fieldsync_core::{DocKind, DocumentId, Role};

use super::accounts::{self, Caller};
use super::listing;
use crate::documents;
use crate::error::{Error, Result};
use crate::imports::check::TIERS;
use crate::messages;
use crate::storage::Storage;
use crate::storage::queries::{self, Cursor, Page, StoreFilter, StoreKey, StoreListRow};

/// Longest store code, in characters.
pub const MAX_CODE_CHARS: usize = 16;
/// Smallest geofence radius a store may set, in metres (GPS is rarely better).
pub const MIN_GEOFENCE_M: f64 = 25.0;
/// Largest geofence radius a store may set, in metres.
pub const MAX_GEOFENCE_M: f64 = 5_000.0;
/// Longest name, address or customer id, in characters.
const MAX_TEXT_CHARS: usize = 200;

fn invalid(message: Message) -> Error {
    Error::invalid("invalid-input", message)
}

/// Checks a store code: 1 to [`MAX_CODE_CHARS`] of `A-Z 0-9 -`, starting with a letter or digit.
pub fn validate_code(code: &str) -> Result<()> {
    let refused = |id: &str| invalid(Message::new(id).arg("code", format!("{code:?}")));
    let count = code.chars().count();
    if count == 0 || count > MAX_CODE_CHARS {
        return Err(invalid(
            Message::new("refusal-store-code-length").arg("code", format!("{code:?}")).arg("max", MAX_CODE_CHARS),
        ));
    }
    if !code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-') {
        return Err(refused("refusal-store-code-chars"));
    }
    if !code.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(refused("refusal-store-code-start"));
    }
    Ok(())
}

/// Checks a store's place: latitude and longitude in range, and a geofence radius of 0 (the
/// scoring's default) or [`MIN_GEOFENCE_M`] to [`MAX_GEOFENCE_M`] metres.
pub fn validate_geofence(latitude: f64, longitude: f64, radius_m: f64) -> Result<()> {
    if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
        return Err(invalid(Message::new("refusal-latitude").arg("value", latitude)));
    }
    if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
        return Err(invalid(Message::new("refusal-longitude").arg("value", longitude)));
    }
    if !radius_m.is_finite() || (radius_m != 0.0 && !(MIN_GEOFENCE_M..=MAX_GEOFENCE_M).contains(&radius_m)) {
        let message = Message::new("refusal-geofence").arg("value", radius_m);
        return Err(invalid(message.arg("min", MIN_GEOFENCE_M).arg("max", MAX_GEOFENCE_M)));
    }
    Ok(())
}

/// `what`: the message id of the field (`refusal-field-address`).
fn check_text(what: &'static str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_TEXT_CHARS || value.chars().any(char::is_control) {
        let message = Message::new("refusal-store-text").part("field", Message::new(what));
        return Err(invalid(message.arg("value", format!("{value:?}")).arg("max", MAX_TEXT_CHARS)));
    }
    Ok(value.to_owned())
}

/// A store as HQ enters it on the admin page: people by username.
#[derive(Debug, Clone, Default)]
pub struct StoreForm {
    /// Display name.
    pub name: String,
    /// Short code (`N-014`).
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
    /// Geofence radius in metres (0: the default).
    pub geofence_m: f64,
    /// The rep's username.
    pub rep: String,
    /// The supervisor's username.
    pub supervisor: String,
    /// Whether it is served.
    pub active: bool,
}

impl StoreForm {
    /// The form of an existing store, people by username (their ids when unknown).
    pub async fn of(storage: &dyn Storage, tenant_id: i64, store: &RetailStore) -> Result<StoreForm> {
        let name_of = |id: &str| {
            let id = id.to_owned();
            async move { Ok::<_, Error>(storage.find_user(tenant_id, &id).await?.map_or(id, |user| user.username)) }
        };
        Ok(StoreForm {
            name: store.name.clone(),
            code: store.code.clone(),
            address: store.address.clone(),
            customer_id: store.customer_id.clone(),
            region: store.region.clone(),
            tier: store.tier.clone(),
            latitude: store.latitude,
            longitude: store.longitude,
            geofence_m: store.geofence_m,
            rep: name_of(&store.rep).await?,
            supervisor: name_of(&store.supervisor).await?,
            active: store.active,
        })
    }
}

/// The id of the user `username`, who must hold `role` (the form's field of that name).
async fn person(storage: &dyn Storage, tenant_id: i64, username: &str, role: Role) -> Result<String> {
    let username = username.trim();
    let named =
        |id: &str| Message::new(id).part("column", messages::role(role)).arg("username", format!("{username:?}"));
    let user = storage
        .find_user_by_username(tenant_id, username)
        .await?
        .ok_or_else(|| invalid(named("refusal-person-unknown")))?;
    if user.role != role {
        let message = named("refusal-person-role").part("actual", messages::role(user.role));
        return Err(invalid(message.part("role", messages::role(role))));
    }
    Ok(user.id)
}

/// Checks every value of `form` and turns it into a store document's value; `editing` is the
/// store being edited (its own code and customer id are not duplicates).
async fn checked(
    storage: &dyn Storage,
    tenant_id: i64,
    form: &StoreForm,
    editing: Option<&DocumentId>,
) -> Result<RetailStore> {
    let name = check_text("refusal-field-store-name", &form.name)?;
    let code = form.code.trim().to_owned();
    validate_code(&code)?;
    let address = check_text("refusal-field-address", &form.address)?;
    let customer_id = check_text("refusal-field-customer-id", &form.customer_id)?;
    let region = form.region.trim().to_owned();
    accounts::validate_region(&region)?;
    let tier = form.tier.trim().to_owned();
    if !TIERS.contains(&tier.as_str()) {
        let message = Message::new("refusal-tier").arg("tier", format!("{tier:?}"));
        return Err(invalid(message.arg("tiers", TIERS.join(", "))));
    }
    validate_geofence(form.latitude, form.longitude, form.geofence_m)?;
    let rep = person(storage, tenant_id, &form.rep, Role::Rep).await?;
    let supervisor = person(storage, tenant_id, &form.supervisor, Role::Supervisor).await?;
    for (key, value, what) in [
        (StoreKey::Code, &code, "refusal-field-store-code"),
        (StoreKey::CustomerId, &customer_id, "refusal-field-customer-id"),
    ] {
        let holders = queries::stores_with(storage, tenant_id, key, value).await?;
        let other = holders.iter().find(|(id, _)| editing.is_none_or(|editing| editing.as_str() != id.as_str()));
        if let Some((_, other)) = other {
            let message = Message::new("refusal-store-taken").part("what", Message::new(what));
            return Err(Error::conflict(message.arg("value", format!("{value:?}")).arg("other", format!("{other:?}"))));
        }
    }
    Ok(RetailStore {
        name,
        code,
        address,
        customer_id,
        region,
        tier,
        latitude: form.latitude,
        longitude: form.longitude,
        geofence_m: form.geofence_m,
        rep,
        supervisor,
        active: form.active,
    })
}

/// Store `id` of a tenant; another kind of document with that id is not found either.
async fn read_store(storage: &dyn Storage, tenant_id: i64, id: &DocumentId) -> Result<RetailStore> {
    documents::read(storage, tenant_id, id).await.map_err(|error| match error {
        Error::Core(fieldsync_core::Error::WrongKind { .. }) => Error::not_found(format!("store {id}")),
        other => other,
    })
}

/// Creates a store in the caller's tenant (HQ only) after checking every value.
pub async fn create_store_as(storage: &dyn Storage, caller: &Caller, form: &StoreForm) -> Result<DocumentId> {
    caller.require_hq_person("refusal-action-create-store")?;
    let store = checked(storage, caller.tenant_id, form, None).await?;
    documents::create_as_relay(storage, caller.tenant_id, &store).await
}

/// Replaces every value of store `id` of the caller's tenant (HQ only) after checking them;
/// whether anything changed.
pub async fn edit_store_as(storage: &dyn Storage, caller: &Caller, id: &DocumentId, form: &StoreForm) -> Result<bool> {
    caller.require_hq_person("refusal-action-edit-store")?;
    // Not found (and another tenant's store is not found) before any value is judged.
    read_store(storage, caller.tenant_id, id).await?;
    let updated = checked(storage, caller.tenant_id, form, Some(id)).await?;
    documents::edit_as_relay(storage, caller.tenant_id, id, |store: &mut RetailStore| {
        let changed = *store != updated;
        *store = updated.clone();
        Ok(changed)
    })
    .await
}

/// Store `id` of the caller's tenant as HQ edits it (HQ only).
pub async fn store_as(storage: &dyn Storage, caller: &Caller, id: &DocumentId) -> Result<RetailStore> {
    caller.require_hq_person("refusal-action-edit-store")?;
    read_store(storage, caller.tenant_id, id).await
}

/// A store list request, parsed from a query string.
#[derive(Debug, Clone)]
pub struct StoreRequest {
    /// Which stores.
    pub filter: StoreFilter,
    /// Where the page starts.
    pub after: Option<Cursor>,
    /// Rows per page.
    pub limit: u32,
}

impl StoreRequest {
    /// Parses the store list's query values for `caller`, whose scope bounds the stores.
    pub fn parse(
        caller: &Caller,
        q: Option<&str>,
        region: Option<&str>,
        active: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<StoreRequest> {
        let active = match listing::one_of("state", active, &["active", "closed"])?.as_deref() {
            Some("active") => Some(true),
            Some(_) => Some(false),
            None => None,
        };
        let region = region.map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
        if let Some(region) = &region {
            accounts::validate_region(region)?;
        }
        Ok(StoreRequest {
            filter: StoreFilter {
                reach: listing::reach(&caller.scope(), DocKind::Store),
                text: listing::search_text(q)?,
                region,
                active,
            },
            after: listing::cursor(after)?,
            limit,
        })
    }
}

/// One page of stores and how many the filter covers in all.
pub async fn page(storage: &dyn Storage, tenant_id: i64, request: &StoreRequest) -> Result<(Page<StoreListRow>, u64)> {
    let page = queries::list_stores(storage, tenant_id, &request.filter, request.after.as_ref(), request.limit).await?;
    let total = queries::count_stores(storage, tenant_id, &request.filter).await?;
    Ok((page, total))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn store_codes_are_short_capitals_digits_and_dashes() {
        for good in ["N-014", "A1", "7-ELEVEN-01"] {
            assert!(validate_code(good).is_ok(), "{good}");
        }
        for (bad, reason) in [
            ("", "1 to 16"),
            ("n-014", "capital letters"),
            ("N 014", "capital letters"),
            ("-N14", "start with"),
            ("ABCDEFGHIJKLMNOPQ", "1 to 16"),
        ] {
            let error = validate_code(bad).unwrap_err().to_string();
            assert!(error.contains(reason) && error.contains(&format!("{bad:?}")), "{bad}: {error}");
        }
    }

    #[test]
    fn a_geofence_is_a_place_on_earth_and_a_default_or_sensible_radius() {
        assert!(validate_geofence(53.55, 9.99, 0.0).is_ok());
        assert!(validate_geofence(-90.0, 180.0, 150.0).is_ok());
        for (lat, lon, radius, what) in [
            (91.0, 0.0, 0.0, "latitude"),
            (0.0, -180.5, 0.0, "longitude"),
            (f64::NAN, 0.0, 0.0, "latitude"),
            (0.0, 0.0, 10.0, "radius"),
            (0.0, 0.0, 6_000.0, "radius"),
            (0.0, 0.0, -1.0, "radius"),
        ] {
            let error = validate_geofence(lat, lon, radius).unwrap_err().to_string();
            assert!(error.contains(what), "{lat} {lon} {radius}: {error}");
        }
    }
}
