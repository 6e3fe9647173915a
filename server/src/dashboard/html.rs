//! HTML building blocks: the page frame (inline CSS and the live-update script under a
//! per-response CSP nonce) and URL parameters. Pages are maud templates (re-exported here):
//! every spliced value is escaped unless wrapped in `PreEscaped`, which only the frame's own
//! constant CSS and script use. Times and money come from [`crate::format`] and the tenant's
//! [`crate::locale::Locale`].

use std::fmt::Write;

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
pub use maud::{DOCTYPE, Markup, PreEscaped, html};

use fieldsync_core::i18n::Language;

use super::session::random_token;
use super::texts::t;

/// Percent-encodes a query parameter value.
pub fn url_param(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

// The plain-text formats (amounts, durations) are shared with alerts and imports; days, times and
// the currency are the tenant's (`crate::locale::Locale`).
pub use crate::format::{age, amount, duration};

/// A store as the dashboard names it: its name (its id when the read model has none) with its
/// short code beside it, when it has one.
pub fn store_label(name: Option<&str>, code: Option<&str>, id: &str) -> Markup {
    let code = code.filter(|code| !code.is_empty());
    html! { (name.unwrap_or(id)) @if let Some(code) = code { " " span.code { (code) } } }
}

/// A store as plain text (drop-downs, CSV, titles): `Corner Market (N-014)`, or the name alone
/// when it has no code.
pub fn store_text(name: &str, code: &str) -> String {
    if code.is_empty() { name.to_owned() } else { format!("{name} ({code})") }
}

const CSS: &str = "
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2933;background:#f4f6f8}
header{background:#12355b;color:#fff;padding:10px 24px;display:flex;align-items:center;gap:24px;flex-wrap:wrap}
header a{color:#dbe7f3;text-decoration:none;font-weight:500}header a.on,header a:hover{color:#fff;text-decoration:underline}
header .brand{font-weight:700;font-size:16px;color:#fff}header .who{margin-left:auto;font-size:13px;color:#dbe7f3}
header form{display:inline}header select{font-size:12px;padding:1px 4px}header button{background:none;border:1px solid #dbe7f3;color:#fff;border-radius:4px;padding:2px 10px;cursor:pointer}
main{padding:20px 24px;max-width:1200px}h1{font-size:22px;margin:0 0 16px}h2{font-size:17px;margin:24px 0 8px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}
.kpi{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.kpi .v{font-size:24px;font-weight:700}.kpi .l{color:#52606d;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.08);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #e4e7eb;vertical-align:top}th{background:#eef2f6;font-size:12px;color:#3e4c59}th:lang(zh){word-break:keep-all}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tr.new td{animation:flash 3s}
@keyframes flash{from{background:#fff3c4}to{background:#fff}}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;background:#e4e7eb;white-space:nowrap}
.tag.ok{background:#d3f5e0;color:#135c33}.tag.warn{background:#fff3c4;color:#7c5e10}.tag.bad{background:#fde0e0;color:#8a1c1c}
.filters{margin:0 0 12px;display:flex;gap:10px;align-items:end;flex-wrap:wrap}.filters label{font-size:12px;color:#52606d;display:flex;flex-direction:column}
select,input{font:inherit;padding:4px 6px;border:1px solid #cbd2d9;border-radius:4px}
button.primary{background:#12355b;color:#fff;border:0;border-radius:4px;padding:6px 14px;font:inherit;cursor:pointer}
.photos{display:flex;flex-wrap:wrap;gap:12px}.photos figure{margin:0;background:#fff;padding:6px;border-radius:6px;box-shadow:0 1px 2px rgba(0,0,0,.1)}
.photos img{display:block;width:160px;height:120px;object-fit:cover;cursor:zoom-in}.photos figcaption{font-size:12px;color:#52606d;max-width:160px}
dialog{border:0;padding:0;background:#000;max-width:95vw;max-height:95vh}dialog img{display:block;max-width:95vw;max-height:90vh}
dialog form{position:absolute;top:6px;right:6px}.note{color:#52606d;font-size:13px}.muted{color:#7b8794}
.login{max-width:340px;margin:60px auto;background:#fff;padding:24px;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.1)}
.login label{display:block;margin:10px 0 2px;font-size:13px}.login input{width:100%}.error{color:#8a1c1c;background:#fde0e0;padding:8px;border-radius:4px}
.chart{background:#fff;border-radius:8px;padding:8px;box-shadow:0 1px 2px rgba(0,0,0,.08)}.chart svg{display:block;max-width:860px}
#live-state{font-size:12px}
.decide{display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start;background:#fff;padding:12px 16px;border-radius:8px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.decide form{display:flex;flex-direction:column;gap:6px}.decide textarea{font:inherit;width:320px;height:56px;padding:4px 6px;border:1px solid #cbd2d9;border-radius:4px}
button.danger{background:#8a1c1c;color:#fff;border:0;border-radius:4px;padding:6px 14px;font:inherit;cursor:pointer}
.notice{padding:8px;border-radius:4px;background:#d3f5e0;color:#135c33}
form.admin,details.admin-form form{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-end;background:#fff;padding:12px 16px;border-radius:8px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
form.admin label,details.admin-form label{display:flex;flex-direction:column;font-size:13px;gap:2px}form.admin label.wide{flex:1 1 100%}
form.admin textarea{font:12px ui-monospace,monospace;width:100%;box-sizing:border-box}form.admin fieldset{display:flex;flex-wrap:wrap;gap:8px;border:1px solid #cbd2d9;border-radius:4px}
a.button{display:inline-block;background:#12355b;color:#fff;border-radius:4px;padding:6px 14px;text-decoration:none}
.scroll{overflow-x:auto;max-width:100%}span.code{font:12px ui-monospace,monospace;background:#e4e7eb;border-radius:3px;padding:0 4px;white-space:nowrap}.tabs a{font-weight:500}.tabs a.on{font-weight:700;text-decoration:none;color:#1f2933}
form.inline{display:flex;gap:4px;margin:0 0 4px;flex-wrap:wrap}form.inline input[type=text]{width:140px}
details.history{font-size:12px;color:#52606d}details.history ul{margin:4px 0;padding-left:16px}
progress{width:100%;max-width:480px;height:14px;vertical-align:middle}p.upload{flex:1 1 100%;margin:0}
table.facts{width:auto;margin:0 0 12px}table.facts th{font-size:13px}
@media (max-width:640px){main{padding:12px}header{padding:8px 12px;gap:6px 12px}header .who{margin-left:0;width:100%}
main>table:not(.stack),main table:not(.stack){display:block;overflow-x:auto;max-width:100%}
.chart{overflow-x:auto}.chart svg{min-width:600px}.decide textarea{width:100%}.kpis{grid-template-columns:repeat(2,1fr)}
.filters{gap:6px}.filters label{flex:1 1 40%}
table.stack thead{display:none}table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}
table.stack tr{border-bottom:2px solid #cbd2d9}table.stack td{border:0;padding:4px 10px}
table.stack td[data-label]::before{content:attr(data-label);display:block;font-size:11px;color:#52606d;text-transform:uppercase}}
";

// Reads a chosen file into the text area its input names (data-into) and its name into data-name.
// Refreshes every element marked data-live-region from a fresh copy of the page when the relay
// announces a change in the viewer's scope; changes that arrive during a refresh trigger one more.
// Sends a form marked data-upload with XMLHttpRequest, its line breaks as CRLF like a plain post
// (its digest covers the text), showing the bytes sent in the <progress> of the element it names,
// then goes where the answer was redirected (a refused form is posted again the plain way, to
// show its page). Polls the JSON of an element's data-progress-url about
// once a second into its <progress> and [aria-live] text, and reloads the page once it has ended.
const LIVE_JS: &str = "
(function(){
  var me=document.currentScript,busy=false,again=false,known=new Set();
  document.querySelectorAll('tr[data-id]').forEach(function(r){known.add(r.dataset.id);});
  function state(s){document.body.dataset.live=s;var e=document.getElementById('live-state');if(e)e.textContent=s==='connected'?'\\u25cf '+me.dataset.connected:'\\u25cb '+me.dataset.reconnecting;}
  async function refresh(){
    if(busy){again=true;return;}busy=true;
    try{
      var r=await fetch(location.href,{credentials:'same-origin',headers:{'Accept':'text/html'}});
      if(r.ok){var doc=new DOMParser().parseFromString(await r.text(),'text/html');
        document.querySelectorAll('[data-live-region]').forEach(function(el){var n=doc.getElementById(el.id);if(n)el.innerHTML=n.innerHTML;});
        document.querySelectorAll('tr[data-id]').forEach(function(r){if(!known.has(r.dataset.id)){r.classList.add('new');known.add(r.dataset.id);}});}
    }catch(e){}finally{busy=false;if(again){again=false;refresh();}}
  }
  var es=new EventSource('/dashboard/events');
  es.onopen=function(){state('connected');};
  es.onerror=function(){state('reconnecting');};
  es.addEventListener('change',refresh);
  document.querySelectorAll('input[type=file][data-into]').forEach(function(input){input.addEventListener('change',function(){
    var f=input.files&&input.files[0];if(!f)return;var name=document.getElementById(input.dataset.name);if(name)name.value=f.name;
    f.text().then(function(t){var into=document.getElementById(input.dataset.into);if(into)into.value=t;});});});
  document.querySelectorAll('form[data-upload]').forEach(function(form){form.addEventListener('submit',function(ev){
    ev.preventDefault();var box=document.getElementById(form.dataset.upload),bar=box&&box.querySelector('progress'),pct=box&&box.querySelector('[data-percent]');
    if(box)box.hidden=false;form.querySelectorAll('button').forEach(function(b){b.disabled=true;});
    var xhr=new XMLHttpRequest();xhr.open('POST',form.action);
    xhr.upload.onprogress=function(e){if(e.lengthComputable&&bar){bar.max=e.total;bar.value=e.loaded;if(pct)pct.textContent=Math.round(100*e.loaded/e.total)+'%';}};
    xhr.onload=function(){if(xhr.responseURL&&xhr.responseURL!==form.action){location.assign(xhr.responseURL);}else{form.submit();}};
    xhr.onerror=function(){form.submit();};
    var body=new URLSearchParams();new FormData(form).forEach(function(v,k){body.append(k,v.replace(/\\r\\n|\\r|\\n/g,'\\r\\n'));});
    xhr.send(body);});});
  document.querySelectorAll('[data-progress-url]').forEach(function(box){
    var bar=box.querySelector('progress'),text=box.querySelector('[aria-live]');
    function poll(){fetch(box.dataset.progressUrl,{credentials:'same-origin',headers:{'Accept':'application/json'}})
      .then(function(r){if(!r.ok&&r.status<500){location.reload();return null;}return r.ok?r.json():null;})
      .then(function(p){if(!p){setTimeout(poll,3000);return;}if(p.ended){location.reload();return;}
        if(bar){if(p.max>0){bar.max=p.max;bar.value=p.value;}else{bar.removeAttribute('value');}}
        if(text)text.textContent=p.text;setTimeout(poll,1000);})
      .catch(function(){setTimeout(poll,3000);});}
    setTimeout(poll,1000);});
  var dlg=document.getElementById('photo-dialog');
  document.querySelectorAll('a.photo').forEach(function(a){a.addEventListener('click',function(ev){
    if(!dlg)return;ev.preventDefault();dlg.querySelector('img').src=a.href;dlg.showModal();});});
})();
";

/// A navigation entry: path, label, whether it is the current page.
pub struct NavItem {
    /// Where it links.
    pub href: &'static str,
    /// What it says, in the viewer's language.
    pub label: String,
}

/// Who is signed in, for the header: their name (and role) and the CSRF token of the logout
/// and language forms.
pub struct Who<'a> {
    /// `anna (HQ)`, in the viewer's language.
    pub name: String,
    /// The session's CSRF token.
    pub csrf: &'a str,
}

/// The language picker of a signed-in page: a form that stores the viewer's choice
/// (`POST /dashboard/language`) and comes back to the same page.
fn language_form(language: Language, csrf: &str) -> Markup {
    html! {
        form.lang method="post" action="/dashboard/language" {
            input type="hidden" name="csrf" value=(csrf);
            select name="language" id="language" aria-label=(t!(language, "header-language")) {
                @for choice in Language::ALL {
                    option value=(choice.tag()) lang=(choice.tag()) selected[choice == language] { (choice.name()) }
                }
            }
            " "
            button type="submit" id="language-save" { (t!(language, "header-language-save")) }
        }
    }
}

/// Links to the same page in every other language (`?lang=`), for pages without a session.
fn language_links(language: Language) -> Markup {
    html! {
        span.who {
            @for choice in Language::ALL.into_iter().filter(|c| *c != language) {
                a href={ "?lang=" (choice.tag()) } lang=(choice.tag()) id={ "lang-" (choice.tag()) } { (choice.name()) }
            }
        }
    }
}

/// A whole page in `language`: frame, navigation, CSS, live script around `body`. The live
/// script comes only with a navigation (a signed-in viewer's page).
pub fn page(
    language: Language,
    title: &str,
    nav: &[NavItem],
    current: &str,
    who: Option<Who<'_>>,
    body: Markup,
) -> Response {
    let nonce = random_token();
    let html = html! {
        (DOCTYPE)
        html lang=(language.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width";
                title { (title) " · " (t!(language, "brand")) }
                style nonce=(nonce) { (PreEscaped(CSS)) }
            }
            body data-live="off" {
                header {
                    span.brand { (t!(language, "brand")) }
                    @for item in nav {
                        a href=(item.href) class=[(item.href == current).then_some("on")] { (item.label) }
                    }
                    @if let Some(who) = &who {
                        span.who {
                            span #live-state {}
                            " " (who.name) " · "
                            (language_form(language, who.csrf))
                            " "
                            form method="post" action="/dashboard/logout" {
                                input type="hidden" name="csrf" value=(who.csrf);
                                button type="submit" { (t!(language, "header-log-out")) }
                            }
                        }
                    } @else {
                        (language_links(language))
                    }
                }
                main { (body) }
                dialog #photo-dialog {
                    form method="dialog" { button { (t!(language, "dialog-close")) } }
                    img alt=(t!(language, "dialog-photo"));
                }
                @if !nav.is_empty() {
                    script nonce=(nonce) data-connected=(t!(language, "live-connected")) data-reconnecting=(t!(language, "live-reconnecting")) { (PreEscaped(LIVE_JS)) }
                }
            }
        }
    };
    let csp = format!(
        "default-src 'none'; img-src 'self'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; connect-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = Html(html.into_string()).into_response();
    secure_headers(&mut response, &csp);
    response
}

/// Headers every dashboard response carries: CSP, no framing, no sniffing, no caching.
pub fn secure_headers(response: &mut Response, csp: &str) {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_durations_and_params_format_plainly() {
        assert_eq!(amount(123_456_789), "1,234,567.89");
        assert_eq!(amount(-5), "-0.05");
        assert_eq!(url_param("a b&c"), "a%20b%26c");
        assert_eq!(duration(59 * 60_000), "59 min");
        assert_eq!(duration(-5), "0 min");
        assert_eq!(duration(5 * 3_600_000 + 20 * 60_000), "5 h 20 min");
        assert_eq!(duration(3 * 86_400_000 + 4 * 3_600_000), "3 d 4 h");
    }
}
