//! `admin seed-demo`: a demo tenant with realistic data, generated from a fixed seed.
//!
//! Tenant `demo`, in Europe/Berlin with amounts in euros: three regions around real cities (north: Hamburg, south: Munich, west:
//! Cologne), 60 stores in tiers A/B/C each with a rep of its region and the region's supervisor,
//! a catalog of 200 products in 8 categories with tier price lists (A cheapest), a regional list
//! for the south, a discount policy and 2 promotions, one inventory document per regional
//! warehouse (a few SKUs below safety stock), 2 checklist templates, and 15 users: 10 reps
//! (4 north, 3 south, 3 west), a supervisor per region, a manager for the north (a manager's
//! scope is a region; the north is the biggest) and one HQ user.
//!
//! Running it again creates nothing twice: existing users are kept, and a document kind that
//! already has documents in the tenant is not seeded again. The logins are printed each time.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use fieldsync_core::Role;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{
    ApprovalPolicy, ApprovalRule, ApproverRole, Catalog, DiscountPolicy, DocKind, EscalationTarget, Inventory,
    PriceBreak, PriceList, Product, Promotion, RetailStore, StockLevel, Template, TemplateItem,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::config::PasswordCost;
use crate::documents::create_as_relay;
use crate::error::Result;
use crate::locale::Locale;
use crate::scope::Scope;
use crate::services::accounts::{self, NewAccount};
use crate::storage::{Storage, Tenant, User};

/// The demo tenant's name.
pub const DEMO_TENANT: &str = "demo";
const SEED: u64 = 0x0F1E_1D5E_ED00_2026;
/// The demo tenant's time zone: its stores are in Germany.
pub const DEMO_TIME_ZONE: &str = "Europe/Berlin";
/// The demo tenant's currency.
pub const DEMO_CURRENCY: &str = "EUR";

/// One demo login, as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    /// Tenant name.
    pub tenant: String,
    /// Username.
    pub username: String,
    /// Password (fixed demo passwords).
    pub password: String,
    /// Role.
    pub role: Role,
    /// Region, if any.
    pub region: Option<String>,
    /// The user's id.
    pub user_id: String,
}

/// What [`seed_demo`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedReport {
    /// Whether the tenant was created by this run (false: it existed).
    pub created_tenant: bool,
    /// Documents created by this run, by kind.
    pub documents_created: BTreeMap<&'static str, usize>,
    /// Every demo login.
    pub logins: Vec<DemoLogin>,
}

impl SeedReport {
    /// The logins as an aligned text table.
    pub fn logins_table(&self) -> String {
        let headers = ["tenant", "username", "password", "role", "region"];
        let rows: Vec<[String; 5]> = self
            .logins
            .iter()
            .map(|l| {
                [
                    l.tenant.clone(),
                    l.username.clone(),
                    l.password.clone(),
                    l.role.as_str().to_owned(),
                    l.region.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.len());
            }
        }
        let mut out = String::new();
        let mut line = |cells: [&str; 5]| {
            let text: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
            let _ = writeln!(out, "{}", text.join("  ").trim_end());
        };
        line(headers);
        for row in &rows {
            line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
        }
        out
    }
}

struct Region {
    name: &'static str,
    city: &'static str,
    latitude: f64,
    longitude: f64,
    reps: usize,
    streets: &'static [&'static str],
}

const REGIONS: [Region; 3] = [
    Region {
        name: "north",
        city: "Hamburg",
        latitude: 53.5511,
        longitude: 9.9937,
        reps: 4,
        streets: &["Mönckebergstraße", "Eppendorfer Weg", "Osterstraße", "Lange Reihe", "Bahrenfelder Straße"],
    },
    Region {
        name: "south",
        city: "München",
        latitude: 48.1372,
        longitude: 11.5756,
        reps: 3,
        streets: &["Leopoldstraße", "Sendlinger Straße", "Rosenheimer Straße", "Nymphenburger Straße", "Tal"],
    },
    Region {
        name: "west",
        city: "Köln",
        latitude: 50.9375,
        longitude: 6.9603,
        reps: 3,
        streets: &["Ehrenstraße", "Severinstraße", "Venloer Straße", "Aachener Straße", "Zülpicher Straße"],
    },
];

const STORES_PER_REGION: usize = 20;
const STORE_PREFIXES: &[&str] = &[
    "Frischmarkt",
    "Kiosk",
    "Getränke",
    "Nahkauf",
    "Feinkost",
    "Eckladen",
    "Markt",
    "Bio-Laden",
    "Späti",
    "Tankstelle",
];
const STORE_SUFFIXES: &[&str] =
    &["am Park", "Zentrum", "am Bahnhof", "Süd", "Nord", "an der Ecke", "am Markt", "Express", "& Co.", "plus"];

struct Category {
    key: &'static str,
    prefix: &'static str,
    items: &'static [&'static str],
    unit: &'static str,
    price_cents: (i64, i64),
}

const CATEGORIES: [Category; 8] = [
    Category {
        key: "beverages",
        prefix: "BEV",
        items: &["Mineral water", "Cola", "Orange juice", "Apple spritzer", "Iced tea", "Lemonade", "Energy drink"],
        unit: "case of 12",
        price_cents: (600, 2400),
    },
    Category {
        key: "snacks",
        prefix: "SNK",
        items: &["Potato chips", "Pretzel sticks", "Salted peanuts", "Tortilla chips", "Popcorn", "Crackers"],
        unit: "carton of 20",
        price_cents: (900, 3200),
    },
    Category {
        key: "dairy",
        prefix: "DAI",
        items: &["Whole milk", "Yoghurt", "Butter", "Gouda slices", "Quark", "Cream"],
        unit: "tray of 10",
        price_cents: (500, 2600),
    },
    Category {
        key: "bakery",
        prefix: "BAK",
        items: &["Toast bread", "Rye bread", "Croissants", "Butter cookies", "Rusks", "Waffles"],
        unit: "box of 8",
        price_cents: (700, 2200),
    },
    Category {
        key: "household",
        prefix: "HOU",
        items: &["Dish soap", "Kitchen roll", "Laundry liquid", "Sponges", "Bin bags", "Glass cleaner"],
        unit: "case of 6",
        price_cents: (800, 4500),
    },
    Category {
        key: "personal-care",
        prefix: "PER",
        items: &["Shampoo", "Shower gel", "Toothpaste", "Deodorant", "Hand soap", "Sun cream"],
        unit: "case of 6",
        price_cents: (900, 5200),
    },
    Category {
        key: "frozen",
        prefix: "FRZ",
        items: &["Pizza margherita", "Fish fingers", "Spinach", "Vanilla ice cream", "French fries", "Berry mix"],
        unit: "carton of 10",
        price_cents: (1200, 4800),
    },
    Category {
        key: "confectionery",
        prefix: "CON",
        items: &["Milk chocolate", "Gummy bears", "Liquorice", "Hazelnut bar", "Mints", "Marzipan"],
        unit: "display of 24",
        price_cents: (1000, 3600),
    },
];

const BRANDS: &[&str] = &["Alpenhof", "Nordlicht", "Rheingold", "Sonnenfeld", "Hanse", "Bergquell", "Lindenhof"];
const PRODUCTS: usize = 200;

/// Who logs in to the demo tenant: username, role, region. Passwords are `demo-<username>`.
fn demo_users() -> Vec<(String, Role, Option<&'static str>)> {
    let mut users = Vec::new();
    let mut n = 0;
    for region in &REGIONS {
        for _ in 0..region.reps {
            n += 1;
            users.push((format!("rep-{n:02}"), Role::Rep, Some(region.name)));
        }
    }
    for region in &REGIONS {
        users.push((format!("supervisor-{}", region.name), Role::Supervisor, Some(region.name)));
    }
    users.push(("manager-north".to_owned(), Role::Manager, Some("north")));
    users.push(("hq-admin".to_owned(), Role::Hq, None));
    users
}

fn demo_password(username: &str) -> String {
    format!("demo-{username}")
}

/// Seeds the demo tenant (see the module docs); safe to run again.
pub async fn seed_demo(storage: &dyn Storage, cost: PasswordCost) -> Result<SeedReport> {
    let (tenant, created_tenant) = match storage.find_tenant(DEMO_TENANT).await? {
        Some(tenant) => (tenant, false),
        None => {
            let locale = Locale::new(DEMO_TIME_ZONE, DEMO_CURRENCY)?;
            (accounts::create_tenant_in(storage, DEMO_TENANT, &locale).await?, true)
        }
    };
    let locale = accounts::locale_of(&tenant);

    let mut users: Vec<User> = Vec::new();
    let mut logins = Vec::new();
    for (username, role, region) in demo_users() {
        let password = demo_password(&username);
        let user = match storage.find_user_by_username(tenant.id, &username).await? {
            Some(user) => user,
            None => {
                let account = NewAccount {
                    tenant: DEMO_TENANT,
                    username: &username,
                    display_name: "",
                    password: &password,
                    role,
                    region,
                };
                accounts::create_user(storage, cost, account).await?
            }
        };
        logins.push(DemoLogin {
            tenant: DEMO_TENANT.to_owned(),
            username,
            password,
            role: user.role,
            region: user.region.clone(),
            user_id: user.id.clone(),
        });
        users.push(user);
    }

    let mut rng = StdRng::seed_from_u64(SEED);
    let now = now_ms();
    let mut documents_created = BTreeMap::new();
    let catalog = build_catalog(&mut rng, now, &locale);
    let skus: Vec<String> = catalog.products.keys().cloned().collect();

    if !has_documents(storage, &tenant, DocKind::Catalog).await? {
        create_as_relay(storage, tenant.id, &catalog).await?;
        documents_created.insert(DocKind::Catalog.as_str(), 1);
    }
    if !has_documents(storage, &tenant, DocKind::Store).await? {
        let stores = build_stores(&mut rng, &users);
        for store in &stores {
            create_as_relay(storage, tenant.id, store).await?;
        }
        documents_created.insert(DocKind::Store.as_str(), stores.len());
    }
    if !has_documents(storage, &tenant, DocKind::Inventory).await? {
        let inventories = build_inventories(&mut rng, &skus, now);
        for inventory in &inventories {
            create_as_relay(storage, tenant.id, inventory).await?;
        }
        documents_created.insert(DocKind::Inventory.as_str(), inventories.len());
    }
    if !has_documents(storage, &tenant, DocKind::Template).await? {
        let templates = build_templates();
        for template in &templates {
            create_as_relay(storage, tenant.id, template).await?;
        }
        documents_created.insert(DocKind::Template.as_str(), templates.len());
    }
    Ok(SeedReport { created_tenant, documents_created, logins })
}

async fn has_documents(storage: &dyn Storage, tenant: &Tenant, kind: DocKind) -> Result<bool> {
    let everything = Scope { role: Role::Hq, user_id: String::new(), region: None };
    Ok(!storage.list_docs(tenant.id, &everything, kind, 1).await?.is_empty())
}

fn round_to(cents: i64, step: i64) -> i64 {
    (cents / step).max(1) * step - 1
}

fn build_catalog(rng: &mut StdRng, now: i64, locale: &Locale) -> Catalog {
    let mut products = BTreeMap::new();
    let mut n = 0;
    'fill: loop {
        for category in &CATEGORIES {
            if n >= PRODUCTS {
                break 'fill;
            }
            n += 1;
            let sku = format!("{}-{:03}", category.prefix, n);
            let item = category.items.choose(rng).copied().unwrap_or("Item");
            let brand = BRANDS.choose(rng).copied().unwrap_or("Hausmarke");
            let size = ["small", "medium", "large", "family"].choose(rng).copied().unwrap_or("medium");
            let (low, high) = category.price_cents;
            products.insert(
                sku,
                Product {
                    name: format!("{brand} {item} ({size})"),
                    category: category.key.to_owned(),
                    unit: category.unit.to_owned(),
                    base_price_cents: round_to(rng.random_range(low..=high), 10),
                    // A few discontinued lines, as in any real catalog.
                    active: rng.random_ratio(97, 100),
                },
            );
        }
    }

    let tier_list = |tier: &str, discount_bp: i64, volume_bp: i64| {
        let prices = products
            .iter()
            .map(|(sku, product)| {
                let unit = product.base_price_cents * (10_000 - discount_bp) / 10_000;
                let volume = product.base_price_cents * (10_000 - discount_bp - volume_bp) / 10_000;
                let breaks = vec![
                    PriceBreak { min_qty: 1, unit_price_cents: unit },
                    PriceBreak { min_qty: 10, unit_price_cents: volume },
                ];
                (sku.clone(), breaks)
            })
            .collect();
        PriceList { tier: tier.to_owned(), region: String::new(), prices }
    };
    let mut price_lists = BTreeMap::new();
    price_lists.insert("tier-a".to_owned(), tier_list("A", 800, 300));
    price_lists.insert("tier-b".to_owned(), tier_list("B", 400, 200));
    price_lists.insert("tier-c".to_owned(), tier_list("C", 0, 100));
    // The south's distributor contract makes beverages and snacks cheaper there.
    let regional = products
        .iter()
        .filter(|(_, p)| p.category == "beverages" || p.category == "snacks")
        .map(|(sku, p)| (sku.clone(), vec![PriceBreak { min_qty: 1, unit_price_cents: p.base_price_cents * 95 / 100 }]))
        .collect();
    price_lists.insert(
        "south-regional".to_owned(),
        PriceList { tier: String::new(), region: "south".to_owned(), prices: regional },
    );

    let mut max_discount_bp = BTreeMap::new();
    for (tier, bp) in [("A", 1500), ("B", 1000), ("C", 500)] {
        max_discount_bp.insert(format!("{tier}/*"), bp);
    }
    // Fresh goods have thin margins.
    for tier in ["A", "B", "C"] {
        max_discount_bp.insert(format!("{tier}/dairy"), 300);
        max_discount_bp.insert(format!("{tier}/frozen"), 500);
    }
    max_discount_bp.insert("*/*".to_owned(), 500);

    // Promotions start and end at midnight, in the tenant's zone.
    let midnight = |days_back: i64| locale.start_of_days_back(now, days_back);
    let mut promotions = BTreeMap::new();
    promotions.insert(
        "summer-drinks".to_owned(),
        Promotion {
            name: "Summer drinks: 10% off beverages".to_owned(),
            starts_at: midnight(7),
            ends_at: midnight(-30),
            skus: Vec::new(),
            categories: vec!["beverages".to_owned()],
            stores: Vec::new(),
            regions: Vec::new(),
            discount_bp: 1000,
            priority: 10,
            stackable: false,
        },
    );
    promotions.insert(
        "snack-week-south".to_owned(),
        Promotion {
            name: "Snack week in the south: 15% off snacks".to_owned(),
            starts_at: midnight(1),
            ends_at: midnight(-6),
            skus: Vec::new(),
            categories: vec!["snacks".to_owned()],
            stores: Vec::new(),
            regions: vec!["south".to_owned()],
            discount_bp: 1500,
            priority: 20,
            stackable: true,
        },
    );

    Catalog {
        products,
        price_lists,
        customer_prices: BTreeMap::new(),
        promotions,
        discount_policy: DiscountPolicy { max_discount_bp, min_order_cents: 5_000 },
        approval_policy: Some(demo_approval_policy()),
        version: 1,
        updated_at: now,
    }
}

/// The demo approval policy (the worked example of `docs/approval-policy.md`).
pub fn demo_approval_policy() -> ApprovalPolicy {
    let rule = |name: &str, f: &dyn Fn(&mut ApprovalRule)| {
        let mut rule = ApprovalRule { name: name.to_owned(), ..ApprovalRule::default() };
        f(&mut rule);
        rule
    };
    let mut rules = BTreeMap::new();
    rules.insert(
        "large-order".to_owned(),
        rule("orders of 400.00 or more", &|r| {
            r.min_total_cents = Some(40_000);
            r.approvers = vec![ApproverRole::Manager];
            r.respond_within_minutes = Some(4 * 60);
            r.escalate_to = Some(EscalationTarget::Hq);
        }),
    );
    rules.insert(
        "very-large-order".to_owned(),
        rule("orders of 2,000.00 or more", &|r| {
            r.min_total_cents = Some(200_000);
            r.approvers = vec![ApproverRole::Manager, ApproverRole::Hq];
            r.respond_within_minutes = Some(8 * 60);
            r.escalate_to = Some(EscalationTarget::NextManagerUp);
        }),
    );
    rules.insert(
        "discount-over-policy".to_owned(),
        rule("a discount above the discount policy", &|r| {
            r.over_discount_limit = true;
            r.approvers = vec![ApproverRole::Manager];
        }),
    );
    rules.insert(
        "tier-c-deep-discount".to_owned(),
        rule("tier C customers with a discount of 10% or more", &|r| {
            r.tiers = vec!["C".to_owned()];
            r.min_discount_bp = Some(1_000);
            r.approvers = vec![ApproverRole::Manager, ApproverRole::Hq];
        }),
    );
    ApprovalPolicy { version: 1, rules, reminder_percent: Some(50), working_hours: None }
}

fn build_stores(rng: &mut StdRng, users: &[User]) -> Vec<RetailStore> {
    let mut stores = Vec::new();
    let mut customer = 1000;
    for region in &REGIONS {
        let in_region = |role: Role| {
            users.iter().filter(move |u| u.role == role && u.region.as_deref() == Some(region.name)).collect::<Vec<_>>()
        };
        let reps = in_region(Role::Rep);
        let supervisor = in_region(Role::Supervisor).first().map(|u| u.id.clone()).unwrap_or_default();
        for i in 0..STORES_PER_REGION {
            customer += 1;
            let prefix = STORE_PREFIXES.choose(rng).copied().unwrap_or("Markt");
            let suffix = STORE_SUFFIXES.choose(rng).copied().unwrap_or("Mitte");
            let street = region.streets.choose(rng).copied().unwrap_or("Hauptstraße");
            let tier = match rng.random_range(0..10) {
                0 | 1 => "A",
                2..=5 => "B",
                _ => "C",
            };
            let rep = reps.get(i % reps.len().max(1)).map(|u| u.id.clone()).unwrap_or_default();
            stores.push(RetailStore {
                name: format!("{prefix} {suffix} {}", region.city),
                // `N-001`: the region's initial and the store's number in it.
                code: format!("{}-{:03}", region.name.get(..1).unwrap_or("S").to_uppercase(), i + 1),
                address: format!("{street} {}, {}", rng.random_range(1..=180), region.city),
                customer_id: format!("C-{customer}"),
                region: region.name.to_owned(),
                tier: tier.to_owned(),
                // Within about 8 km of the city centre.
                latitude: region.latitude + rng.random_range(-0.07..0.07),
                longitude: region.longitude + rng.random_range(-0.11..0.11),
                geofence_m: 0.0,
                rep,
                supervisor: supervisor.clone(),
                active: true,
            });
        }
    }
    stores
}

fn build_inventories(rng: &mut StdRng, skus: &[String], now: i64) -> Vec<Inventory> {
    REGIONS
        .iter()
        .map(|region| {
            let levels = skus
                .iter()
                .map(|sku| {
                    let safety = rng.random_range(20..=60);
                    // About one SKU in twenty is below its safety stock.
                    let on_hand = if rng.random_ratio(1, 20) {
                        rng.random_range(0..safety)
                    } else {
                        rng.random_range(safety..=600)
                    };
                    let reserved = rng.random_range(0..=on_hand.min(40));
                    (sku.clone(), StockLevel { on_hand, reserved, safety })
                })
                .collect();
            Inventory {
                warehouse: format!("WH-{}", region.name.to_uppercase()),
                region: region.name.to_owned(),
                levels,
                as_of: now,
            }
        })
        .collect()
}

fn items(list: &[(&str, &str, f64, bool)]) -> BTreeMap<String, TemplateItem> {
    list.iter()
        .zip(1..)
        .map(|(&(id, text, weight, requires_photo), position)| {
            (id.to_owned(), TemplateItem { text: text.to_owned(), weight, requires_photo, position })
        })
        .collect()
}

fn build_templates() -> Vec<Template> {
    vec![
        Template {
            name: "Shelf standard".to_owned(),
            version: 1,
            items: items(&[
                ("shelf-stocked", "Shelves are fully stocked, no gaps", 3.0, true),
                ("planogram", "Products are placed as in the planogram", 2.0, true),
                ("price-labels", "Every product has a visible, correct price label", 2.0, true),
                ("facings", "Our brands have at least 3 facings each", 1.5, true),
                ("cooler", "The cooler is clean, working and stocked", 1.5, true),
                ("no-expired", "No expired products on the shelf", 2.0, false),
            ]),
            trust: None,
        },
        Template {
            name: "Promotion compliance".to_owned(),
            version: 1,
            items: items(&[
                ("display-installed", "The promotion display is installed", 3.0, true),
                ("promo-prices", "Promotion prices are shown at the shelf", 2.0, true),
                ("secondary-placement", "Promoted products have a secondary placement", 1.5, true),
                ("pos-material", "Posters and shelf talkers are up", 1.0, true),
                ("staff-aware", "Store staff know the promotion", 1.0, false),
            ]),
            trust: None,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_data_has_the_promised_shape() {
        let mut rng = StdRng::seed_from_u64(SEED);
        let catalog = build_catalog(&mut rng, 0, &Locale::default());
        assert_eq!(catalog.products.len(), PRODUCTS);
        let categories: std::collections::BTreeSet<_> =
            catalog.products.values().map(|p| p.category.as_str()).collect();
        assert_eq!(categories.len(), 8);
        assert_eq!(catalog.promotions.len(), 2);
        let a = &catalog.price_lists["tier-a"].prices;
        let c = &catalog.price_lists["tier-c"].prices;
        assert!(a.iter().all(|(sku, breaks)| breaks[0].unit_price_cents <= c[sku][0].unit_price_cents));

        let users: Vec<User> = demo_users()
            .into_iter()
            .enumerate()
            .map(|(i, (username, role, region))| User {
                id: format!("u{i}"),
                tenant_id: 1,
                username,
                display_name: String::new(),
                password_hash: String::new(),
                role,
                region: region.map(str::to_owned),
                disabled_at: None,
                created_at: 0,
            })
            .collect();
        assert_eq!(users.iter().filter(|u| u.role == Role::Rep).count(), 10);
        let stores = build_stores(&mut rng, &users);
        assert_eq!(stores.len(), 60);
        for store in &stores {
            let rep = users.iter().find(|u| u.id == store.rep).map(|u| u.region.clone());
            let supervisor = users.iter().find(|u| u.id == store.supervisor).map(|u| (u.role, u.region.clone()));
            assert_eq!(rep, Some(Some(store.region.clone())), "{store:?}");
            assert_eq!(supervisor, Some((Role::Supervisor, Some(store.region.clone()))));
        }
        let skus: Vec<String> = catalog.products.keys().cloned().collect();
        let inventories = build_inventories(&mut rng, &skus, 0);
        assert_eq!(inventories.len(), 3);
        let below: usize = inventories.iter().map(|i| i.levels.values().filter(|l| l.on_hand < l.safety).count()).sum();
        assert!((3..60).contains(&below), "{below} levels below safety");
        assert!(demo_users().iter().all(|(u, _, _)| accounts::validate_password(&demo_password(u)).is_ok()));
    }
}
