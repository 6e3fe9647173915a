//! The dashboard in the viewer's language, through the relay's router
//! (`tower::ServiceExt::oneshot`): every main page (and an import run's page with its progress)
//! reads in Simplified Chinese for a viewer who chose it (no English label left), the language
//! comes from the user's setting, then the tenant's, then the browser's `Accept-Language`, then
//! English, and a language that is not spoken is refused and changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use fieldsync_core::Role;
use fieldsync_server::config::{Config, PasswordCost};
use fieldsync_server::dashboard::session::{SESSION_COOKIE, csrf_token};
use fieldsync_server::services::accounts::{self, NewAccount};
use fieldsync_server::{AppState, app};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

/// Tenant `acme` with HQ (hana) and the north manager (mia).
async fn relay() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.password_cost = PasswordCost::insecure_for_tests();
    let state = config.open_state().unwrap();
    let storage = state.storage.as_ref();
    accounts::create_tenant(storage, "acme").await.unwrap();
    for (username, role, region) in [("mia", Role::Manager, Some("north")), ("hana", Role::Hq, None)] {
        let account = NewAccount { tenant: "acme", username, password: PASSWORD, role, region, display_name: "" };
        accounts::create_user(storage, PasswordCost::insecure_for_tests(), account).await.unwrap();
    }
    (dir, state)
}

struct Reply {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Reply {
    /// The `lang` of the page's `<html>` element.
    fn lang(&self) -> &str {
        let start = self.body.find("<html lang=\"").map(|at| at + 12).expect("an html element with lang");
        let end = self.body[start..].find('"').unwrap();
        &self.body[start..start + end]
    }
}

/// A request with the session of `token` (if any), extra headers and a form body.
async fn send(
    state: &AppState,
    method: Method,
    uri: &str,
    token: Option<&str>,
    headers: &[(header::HeaderName, &str)],
    form: Option<&str>,
) -> Reply {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header(header::COOKIE, format!("{SESSION_COOKIE}={token}"));
    }
    for (name, value) in headers {
        builder = builder.header(name, *value);
    }
    let body = match form {
        Some(form) => {
            builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(form.to_owned())
        }
        None => Body::empty(),
    };
    let router = app(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
    let response = router.oneshot(builder.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let location = response.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Reply { status, location, body: String::from_utf8_lossy(&body).into_owned() }
}

async fn get(state: &AppState, uri: &str, token: &str, accept_language: Option<&str>) -> Reply {
    let headers: Vec<_> = accept_language.map(|value| (header::ACCEPT_LANGUAGE, value)).into_iter().collect();
    send(state, Method::GET, uri, Some(token), &headers, None).await
}

/// Chooses `language` with the header's picker, as a browser on `from` would.
async fn choose(state: &AppState, token: &str, language: &str, from: &str) -> Reply {
    let form = format!("csrf={}&language={language}", csrf_token(token));
    let referer = format!("http://relay.test{from}");
    send(state, Method::POST, "/dashboard/language", Some(token), &[(header::REFERER, &referer)], Some(&form)).await
}

#[tokio::test]
async fn a_chinese_viewer_reads_every_main_page_in_chinese_with_no_english_label_left() {
    let (_dir, state) = relay().await;
    let token = common::login(&state, "hana", PASSWORD).await;
    let chosen = choose(&state, &token, "zh-CN", "/dashboard/orders?status=approved").await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.body);
    assert_eq!(chosen.location.as_deref(), Some("/dashboard/orders?status=approved"), "back to the page it was on");

    // (page, Chinese texts it must show)
    let pages: [(&str, &[&str]); 19] = [
        ("/", &["<h1>概览</h1>", "今日订单", "每日订单", "最新订单", "巡店得分（7 天）"]),
        (
            "/dashboard/orders",
            &["<h1>订单</h1>", ">业务员<", ">待处理人<", ">筛选<", "导出 CSV", "没有符合条件的订单。"],
        ),
        ("/dashboard/approvals", &["<h1>待我审批</h1>", "暂无待您审批的订单。"]),
        ("/dashboard/approvals/report", &["<h1>审批时间花在哪里</h1>", "按审批人", ">中位数<"]),
        ("/dashboard/inspections", &["<h1>巡店</h1>", ">督导<", "得分分布", "没有符合条件的巡店记录。"]),
        ("/dashboard/alerts", &["<h1>预警</h1>", ">未处理<", ">已暂缓<", "库存不足", "0 条未处理预警"]),
        ("/dashboard/stores", &["<h1>门店</h1>", "巡店覆盖率（最近 7 天）", ">区域<", "您的权限范围内没有门店。"]),
        ("/dashboard/devices", &["<h1>设备</h1>", ">最近同步<", "远程擦除", "可能有未同步订单的业务员"]),
        ("/dashboard/api-keys", &["<h1>API 密钥</h1>", "创建密钥", ">使用次数<"]),
        ("/dashboard/out-of-office", &["<h1>外出代理</h1>", "您当前没有设置外出。", ">代理人"]),
        ("/dashboard/no-such-page", &["页面不存在", "管理后台没有这个页面", "返回概览"]),
        (
            "/dashboard/admin/users",
            &[
                "<h1>用户</h1>",
                "新建用户",
                "创建用户",
                ">角色与区域<",
                "仅启用",
                ">区域经理<",
                "共 2 个用户，显示 2 个",
            ],
        ),
        (
            "/dashboard/admin/stores",
            &[
                "<h1>门店管理</h1>",
                "新建门店",
                ">经营状态<",
                ">服务中<",
                ">编码<",
                "共 0 家门店",
                "没有符合条件的门店。",
            ],
        ),
        ("/dashboard/admin/stores/new", &["<h1>新建门店</h1>", "地理围栏", ">纬度", "客户编号", "创建门店", ">取消<"]),
        ("/dashboard/admin/templates", &["<h1>检查模板</h1>", "新建模板", ">版本<", "暂无模板。"]),
        ("/dashboard/admin/templates/new", &["<h1>新建模板</h1>", "每行一项", "货架是否摆满？", "创建模板"]),
        (
            "/dashboard/admin/imports",
            &["<h1>数据导入</h1>", ">数据集", "或粘贴 CSV 内容", ">预览<", "导入记录", "暂无导入记录。"],
        ),
        ("/dashboard/webhooks", &["<h1>Webhook 订阅</h1>", "事件流共有 0 条事件", "暂无订阅"]),
        ("/dashboard/admin/settings", &["<h1>租户设置</h1>", "默认语言", "跟随浏览器语言", "保存设置", ">租户设置<"]),
    ];
    // Labels the English pages show; none may be left on a Chinese page.
    let english = [
        ">Overview<",
        ">Orders<",
        ">Approvals<",
        ">Inspections<",
        ">Alerts<",
        ">Stores<",
        ">Devices<",
        ">Log out<",
        ">Search",
        ">Status<",
        ">Store<",
        ">Filter<",
        ">Export CSV<",
        "No orders match",
        "Nothing waits on you",
        "Back to the overview",
        "Not found",
        "Times in",
        "days<",
        " ago",
        ">Users<",
        ">New user<",
        "Role and region",
        "enabled only",
        ">any<",
        ">New store<",
        "Geofence",
        ">Cancel<",
        "Checklist templates",
        "No templates yet",
        "Is the shelf full",
        ">Imports<",
        ">Preview<",
        ">History<",
        "No imports yet",
        ">Webhooks<",
        "Tenant settings",
        "Default language",
        "No subscriptions yet",
    ];
    for (path, chinese) in pages {
        let page = get(&state, path, &token, Some("en-GB,en")).await;
        let expected = if path.ends_with("no-such-page") { StatusCode::NOT_FOUND } else { StatusCode::OK };
        assert_eq!(page.status, expected, "{path}: {}", page.body);
        assert_eq!(page.lang(), "zh-CN", "{path}");
        for text in chinese {
            assert!(page.body.contains(text), "{path} lacks {text:?}:\n{}", page.body);
        }
        for nav in ["概览", "订单", "审批", "巡店", "预警", "门店", "设备", "退出登录"] {
            assert!(page.body.contains(&format!(">{nav}<")), "{path}: the frame lacks {nav}");
        }
        for label in english {
            assert!(!page.body.contains(label), "{path} still says {label:?}:\n{}", page.body);
        }
    }
}

#[tokio::test]
async fn the_language_is_the_users_then_the_tenants_then_the_browsers_then_english() {
    let (_dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let token = common::login(&state, "mia", PASSWORD).await;
    let lang = |reply: Reply| {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.lang().to_owned()
    };
    // Nothing chosen: the browser's, else English.
    assert_eq!(lang(get(&state, "/", &token, None).await), "en");
    assert_eq!(lang(get(&state, "/", &token, Some("fr-FR, de;q=0.8")).await), "en");
    assert_eq!(lang(get(&state, "/", &token, Some("zh-CN,zh;q=0.9,en;q=0.8")).await), "zh-CN");
    // The tenant's default wins over the browser.
    accounts::set_tenant_language(storage, "acme", "en").await.unwrap();
    assert_eq!(lang(get(&state, "/", &token, Some("zh-CN,zh;q=0.9")).await), "en");
    accounts::set_tenant_language(storage, "acme", "zh").await.unwrap();
    assert_eq!(lang(get(&state, "/", &token, Some("en")).await), "zh-CN");
    // The user's own choice wins over both.
    assert_eq!(choose(&state, &token, "en", "/").await.status, StatusCode::SEE_OTHER);
    let page = get(&state, "/", &token, Some("zh-CN")).await;
    assert!(page.body.contains("<h1>Overview</h1>"), "{}", page.body);
    assert_eq!(lang(page), "en");
    // Another user of the tenant still reads the tenant's.
    let hq = common::login(&state, "hana", PASSWORD).await;
    assert_eq!(lang(get(&state, "/", &hq, Some("en")).await), "zh-CN");
}

#[tokio::test]
async fn a_language_that_is_not_spoken_or_a_form_without_its_token_is_refused_and_changes_nothing() {
    let (_dir, state) = relay().await;
    let token = common::login(&state, "hana", PASSWORD).await;
    assert_eq!(choose(&state, &token, "zh-CN", "/").await.status, StatusCode::SEE_OTHER);

    let refused = choose(&state, &token, "fr", "/").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("不支持语言“fr”（请选择 en 或 zh-CN）"), "{}", refused.body);
    assert_eq!(refused.lang(), "zh-CN", "the refusal reads in the viewer's language");
    assert!(refused.body.contains("无法执行此操作"), "{}", refused.body);

    let forged = "csrf=forged&language=en";
    let forged = send(&state, Method::POST, "/dashboard/language", Some(&token), &[], Some(forged)).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("表单安全令牌缺失或有误"), "{}", forged.body);

    let still = get(&state, "/", &token, Some("en")).await;
    assert_eq!(still.lang(), "zh-CN", "neither refusal changed the setting");
}

#[tokio::test]
async fn the_login_page_speaks_the_browsers_language_or_the_one_its_link_asks_for() {
    let (_dir, state) = relay().await;
    let login = |uri: &'static str, accept: Option<&'static str>| {
        let state = state.clone();
        async move {
            let headers: Vec<_> = accept.map(|value| (header::ACCEPT_LANGUAGE, value)).into_iter().collect();
            send(&state, Method::GET, uri, None, &headers, None).await
        }
    };
    let english = login("/dashboard/login", None).await;
    assert_eq!(english.lang(), "en");
    assert!(
        english.body.contains("<h1>Sign in</h1>") && english.body.contains("id=\"lang-zh-CN\""),
        "{}",
        english.body
    );

    let chinese = login("/dashboard/login", Some("zh-CN,zh;q=0.9")).await;
    assert_eq!(chinese.lang(), "zh-CN");
    for text in ["<h1>登录</h1>", ">公司<", ">用户名<", ">密码<", "action=\"/dashboard/login?lang=zh-CN\""] {
        assert!(chinese.body.contains(text), "{text}: {}", chinese.body);
    }
    assert!(!chinese.body.contains("Sign in") && !chinese.body.contains("Password"), "{}", chinese.body);

    let asked = login("/dashboard/login?lang=en", Some("zh-CN")).await;
    assert_eq!(asked.lang(), "en", "the link's language wins over the browser's");

    // A wrong password is said in the page's language.
    let wrong = send(
        &state,
        Method::POST,
        "/dashboard/login?lang=zh-CN",
        None,
        &[(header::COOKIE, "fieldsync_login_csrf=abc")],
        Some("tenant=acme&username=hana&password=nope&csrf=abc"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("公司、用户名或密码错误"), "{}", wrong.body);
}

#[tokio::test]
async fn hq_sets_the_tenants_default_language_time_zone_and_currency_on_the_settings_page() {
    let (_dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let hq = common::login(&state, "hana", PASSWORD).await;
    let mia = common::login(&state, "mia", PASSWORD).await;
    let save = |form: String| {
        let state = state.clone();
        let hq = hq.clone();
        async move { send(&state, Method::POST, "/dashboard/admin/settings", Some(&hq), &[], Some(&form)).await }
    };
    let csrf = csrf_token(&hq);

    let page = get(&state, "/dashboard/admin/settings", &hq, Some("en")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"value="UTC""#) && page.body.contains(r#"value="USD""#), "{}", page.body);

    // A bad time zone with a good language: nothing is written, the values stay as typed.
    let refused = save(format!("csrf={csrf}&time_zone=Asia%2FNowhere&currency=CNY&language=zh-CN")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("id=\"settings-error\""), "{}", refused.body);
    assert!(refused.body.contains(r#"value="Asia/Nowhere""#), "the typed value is kept: {}", refused.body);
    assert!(refused.body.contains("unknown time zone &quot;Asia/Nowhere&quot;"), "{}", refused.body);
    let tenant = accounts::tenant_named(storage, "acme").await.unwrap();
    assert_eq!((tenant.time_zone.as_str(), tenant.currency.as_str()), ("UTC", "USD"));
    assert_eq!(get(&state, "/", &mia, Some("en")).await.lang(), "en", "the language did not change either");

    // A forged form changes nothing; a manager may not open the page.
    let forged = save("csrf=forged&time_zone=Asia%2FShanghai&currency=CNY&language=zh-CN".to_owned()).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let form = format!("csrf={}&time_zone=Asia%2FShanghai&currency=CNY&language=zh-CN", csrf_token(&mia));
    let manager = send(&state, Method::POST, "/dashboard/admin/settings", Some(&mia), &[], Some(&form)).await;
    assert_eq!(manager.status, StatusCode::FORBIDDEN);
    assert_eq!(get(&state, "/dashboard/admin/settings", &mia, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(accounts::tenant_named(storage, "acme").await.unwrap().time_zone, "UTC");

    // Saved: the tenant's people read Chinese unless they chose otherwise, in its zone and money.
    let saved = save(format!("csrf={csrf}&time_zone=Asia%2FShanghai&currency=cny&language=zh-CN")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location.as_deref(), Some("/dashboard/admin/settings?saved=1"));
    let after = get(&state, "/dashboard/admin/settings?saved=1", &hq, Some("en")).await;
    assert!(after.body.contains("设置已保存"), "the notice reads in the new default language: {}", after.body);
    assert!(after.body.contains(r#"value="Asia/Shanghai""#) && after.body.contains(r#"value="CNY""#), "{}", after.body);
    let tenant = accounts::tenant_named(storage, "acme").await.unwrap();
    assert_eq!((tenant.time_zone.as_str(), tenant.currency.as_str()), ("Asia/Shanghai", "CNY"));
    assert_eq!(get(&state, "/", &mia, Some("en")).await.lang(), "zh-CN");

    // Back to each browser's language.
    let cleared = save(format!("csrf={csrf}&time_zone=Asia%2FShanghai&currency=CNY&language=")).await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.body);
    assert_eq!(get(&state, "/", &mia, Some("en")).await.lang(), "en");
    assert_eq!(get(&state, "/", &mia, Some("zh-CN")).await.lang(), "zh-CN");
}

#[tokio::test]
async fn an_import_runs_page_and_its_progress_read_in_chinese() {
    use fieldsync_server::storage::{ImportCounts, ImportProgress, ImportRunEnd, NewImportRun};
    let (_dir, state) = relay().await;
    let storage = state.storage.as_ref();
    let token = common::login(&state, "hana", PASSWORD).await;
    assert_eq!(choose(&state, &token, "zh-CN", "/").await.status, StatusCode::SEE_OTHER);
    let tenant_id = storage.find_tenant("acme").await.unwrap().unwrap().id;
    let run = NewImportRun { actor: "hana".into(), dataset: "stores".into(), file_name: "门店.csv".into(), at: 1 };
    let id = storage.start_import_run(tenant_id, run).await.unwrap();
    let progress = ImportProgress {
        phase: "writing".into(),
        bytes_read: 8_000_000,
        bytes_total: 8_000_000,
        rows_checked: 120,
        written: 40,
        write_total: 120,
    };
    storage.update_import_run(tenant_id, id, progress.clone(), fieldsync_core::clock::now_ms()).await.unwrap();

    let path = format!("/dashboard/admin/imports/runs/{id}");
    let running = get(&state, &path, &token, Some("en")).await;
    assert_eq!((running.status, running.lang()), (StatusCode::OK, "zh-CN"));
    let title = format!("<h1>导入 {id}</h1>");
    for text in [title.as_str(), ">数据集<", ">进行中<", "正在写入：40 / 120 条记录", "返回数据导入"]
    {
        assert!(running.body.contains(text), "{path} lacks {text:?}:\n{}", running.body);
    }
    let json = get(&state, &format!("{path}/progress"), &token, Some("en")).await;
    assert!(json.body.contains("\"text\":\"正在写入：40 / 120 条记录\""), "{}", json.body);

    let end = ImportRunEnd {
        outcome: "applied".into(),
        rows: 120,
        detail: "imported 120 stores row(s)".into(),
        progress,
        counts: Some(ImportCounts { created: 100, updated: 20, unchanged: 0 }),
        refusal: None,
        at: fieldsync_core::clock::now_ms(),
    };
    storage.finish_import_run(tenant_id, id, end).await.unwrap();
    let applied = get(&state, &path, &token, Some("en")).await;
    assert!(applied.body.contains("已导入 stores 120 行：新建 100 条记录，更新 20，未变 0。"), "{}", applied.body);
    for english in [">Dataset<", ">applied<", "Back to the imports", "writing:", "imported 120"] {
        assert!(!applied.body.contains(english), "{path} still says {english:?}:\n{}", applied.body);
    }
}
