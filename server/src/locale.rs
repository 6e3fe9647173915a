//! A tenant's time zone and currency: what "a day" is, and how times and amounts read.
//!
//! Every day the relay counts — today's orders, the orders-per-day chart, the sales-falling run,
//! visits in the last 7/30/90 days — is a calendar day in the tenant's IANA time zone, so a day
//! across a daylight-saving change lasts 23 or 25 hours. Times show in that zone with their
//! offset (`2026-03-29 09:15 +02:00`), amounts with the tenant's ISO 4217 currency
//! (`1,234.50 EUR`). Elapsed times (approval times, "3 h ago") are durations and do not depend
//! on the zone. The date arithmetic is jiff's.
//!
//! A locale also carries the language of the person reading ([`Locale::with_language`]; English
//! unless set): in Simplified Chinese times read `2026年3月29日 09:15` and yuan `¥1,234.50`
//! (other currencies keep their code after the amount, as in English). What other programs read
//! ([`Locale::date`], [`Locale::timestamp`], the API's and the CSV files' values) never changes
//! with the language.

use iso_currency::Currency;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, ZonedDateTime};

use fieldsync_core::doc::WorkingHours;
use fieldsync_core::i18n::{Language, Message};

use crate::error::{Error, Result};
use crate::format::amount;

/// The time zone of a tenant created without `--time-zone`.
pub const DEFAULT_TIME_ZONE: &str = "UTC";
/// The currency of a tenant created without `--currency`.
pub const DEFAULT_CURRENCY: &str = "USD";

/// A tenant's time zone and currency, validated, and the language of the texts made with it.
#[derive(Debug, Clone)]
pub struct Locale {
    zone_name: String,
    zone: TimeZone,
    currency: Currency,
    language: Language,
}

impl Default for Locale {
    /// UTC and US dollars, in English.
    fn default() -> Self {
        Self {
            zone_name: DEFAULT_TIME_ZONE.to_owned(),
            zone: TimeZone::UTC,
            currency: Currency::USD,
            language: Language::English,
        }
    }
}

impl Locale {
    /// A validated locale: `time_zone` an IANA name (`Europe/Berlin`, `UTC`), `currency` an
    /// ISO 4217 code (`EUR`, any case) of a currency with two decimal places. A bad value is
    /// refusal ([`Error::Refused`]) naming it.
    pub fn new(time_zone: &str, currency: &str) -> Result<Self> {
        Ok(Self {
            zone_name: time_zone.trim().to_owned(),
            zone: parse_zone(time_zone)?,
            currency: parse_currency(currency)?,
            language: Language::English,
        })
    }

    /// A tenant's stored locale (`tenant` names it in warnings). A value this relay cannot read (a
    /// zone missing from its time-zone database) falls back to the default, with a warning,
    /// rather than failing every page of the tenant.
    pub fn stored(tenant: &str, time_zone: &str, currency: &str) -> Self {
        let (zone_name, zone) = match parse_zone(time_zone) {
            Ok(zone) => (time_zone.trim(), zone),
            Err(error) => {
                tracing::warn!(%tenant, %error, "time zone unreadable: days are counted in UTC");
                (DEFAULT_TIME_ZONE, TimeZone::UTC)
            }
        };
        let currency = parse_currency(currency).unwrap_or_else(|error| {
            tracing::warn!(%tenant, %error, "currency unreadable: amounts are shown in USD");
            Currency::USD
        });
        Self { zone_name: zone_name.to_owned(), zone, currency, language: Language::English }
    }

    /// The same zone and currency, with times and amounts written for a reader of `language`.
    pub fn with_language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// The language times and amounts are written for.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The IANA name of the time zone.
    pub fn time_zone(&self) -> &str {
        &self.zone_name
    }

    /// The ISO 4217 code of the currency.
    pub fn currency(&self) -> &'static str {
        self.currency.code()
    }

    fn zoned(&self, ms: i64) -> ZonedDateTime {
        // Times outside jiff's range (about ±9999 years) cannot come from a real clock.
        let at = Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 { Timestamp::MIN } else { Timestamp::MAX });
        at.to_zoned_datetime(self.zone.clone())
    }

    /// The local calendar day of a time in ms since the Unix epoch.
    pub fn day_of(&self, ms: i64) -> Date {
        self.zoned(ms).date()
    }

    /// When a local day starts (its first instant, 00:00 or the first time after a gap), in ms
    /// since the Unix epoch.
    pub fn start_of(&self, day: Date) -> i64 {
        day.to_zoned_datetime(self.zone.clone()).map_or(i64::MIN, |z| z.timestamp().as_millisecond())
    }

    /// The local day `days` days before `day` (after, for a negative count).
    pub fn days_before(day: Date, days: i64) -> Date {
        day.saturating_sub(days.days())
    }

    /// When the local day started that lies `days_back` days before the day of `now` (0: today).
    pub fn start_of_days_back(&self, now: i64, days_back: i64) -> i64 {
        self.start_of(Self::days_before(self.day_of(now), days_back))
    }

    /// `2026-11-30`: the local day of a time.
    pub fn date(&self, ms: i64) -> String {
        self.day_of(ms).to_string()
    }

    /// `2026-11-30 14:05 +01:00`: a time in the zone, with its offset then; for a Chinese reader
    /// `2026年11月30日 14:05`.
    pub fn datetime(&self, ms: i64) -> String {
        match self.language {
            Language::English => self.zoned(ms).strftime("%Y-%m-%d %H:%M %:z").to_string(),
            Language::Chinese => self.zoned(ms).strftime("%Y年%-m月%-d日 %H:%M").to_string(),
        }
    }

    /// `2026-11-30` (a Chinese reader: `2026年11月30日`): the local day of a time, for people.
    pub fn day_label(&self, ms: i64) -> String {
        match self.language {
            Language::English => self.date(ms),
            Language::Chinese => self.zoned(ms).strftime("%Y年%-m月%-d日").to_string(),
        }
    }

    /// `2026-11-30T14:05:00+01:00`: a time in the zone as RFC 3339, for files other programs read.
    pub fn timestamp(&self, ms: i64) -> String {
        self.zoned(ms).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }

    /// `Europe/Berlin (UTC+01:00 now)`: the zone and its offset at `now`, for page notes.
    pub fn zone_label(&self, now: i64) -> String {
        format!("{} (UTC{})", self.zone_name, self.zoned(now).strftime("%:z"))
    }

    /// The time `minutes` working minutes after `from` (ms since the Unix epoch), counting only
    /// the working `days` (ISO numbers, 1 = Monday) between `start_minute` and `end_minute` of
    /// each local day: an SLA in business hours. Days whose hours fall in a daylight-saving gap
    /// count what they really have. With no working minute in a week (no days, or an empty
    /// window), wall-clock minutes.
    pub fn add_working_minutes(&self, from: i64, minutes: i64, hours: &WorkingHours) -> i64 {
        let wall = from.saturating_add(minutes.saturating_mul(60_000));
        let (start, end) = (hours.start_minute.clamp(0, 1440), hours.end_minute.clamp(0, 1440));
        let works = |day: Date| hours.days.contains(&i64::from(day.weekday().to_monday_one_offset()));
        if start >= end || !(1..=7).any(|d| hours.days.contains(&d)) {
            return wall;
        }
        let mut left = minutes.saturating_mul(60_000);
        let mut day = self.day_of(from);
        // A year of calendar days is more than any SLA needs; beyond it, wall-clock time.
        for _ in 0..370 {
            if works(day) {
                let midnight = self.start_of(day);
                let at = |minute: i64| {
                    let local = day.to_datetime(jiff::civil::Time::midnight()).saturating_add(minute.minutes());
                    local
                        .to_zoned_datetime(self.zone.clone())
                        .map_or(midnight + minute * 60_000, |z| z.timestamp().as_millisecond())
                };
                let (open, close) = (at(start).max(from), at(end));
                if close > open {
                    if left <= close - open {
                        return open + left;
                    }
                    left -= close - open;
                }
            }
            day = day.saturating_add(1.days());
        }
        wall
    }

    /// `1,234.50 EUR`: an amount in hundredths of the currency. For a Chinese reader, yuan read
    /// `¥1,234.50` (`-¥0.05`); other currencies as in English.
    pub fn money(&self, cents: i64) -> String {
        match (self.language, self.currency) {
            (Language::Chinese, Currency::CNY) => {
                let text = amount(cents);
                match text.strip_prefix('-') {
                    Some(positive) => format!("-¥{positive}"),
                    None => format!("¥{text}"),
                }
            }
            _ => format!("{} {}", amount(cents), self.currency.code()),
        }
    }
}

fn parse_zone(name: &str) -> Result<TimeZone> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("invalid-input", Message::new("refusal-time-zone-empty")));
    }
    TimeZone::get(name).map_err(|_| {
        Error::invalid("invalid-input", Message::new("refusal-time-zone-unknown").arg("zone", format!("{name:?}")))
    })
}

fn parse_currency(code: &str) -> Result<Currency> {
    let code = code.trim().to_ascii_uppercase();
    let refused = |message: Message| Error::invalid("invalid-input", message);
    let Some(currency) = Currency::from_code(&code) else {
        return Err(refused(Message::new("refusal-currency-unknown").arg("code", format!("{code:?}"))));
    };
    if currency.is_special() || currency.is_fund() {
        return Err(refused(
            Message::new("refusal-currency-not-money").arg("code", &code).arg("name", currency.name()),
        ));
    }
    if let Some(successor) = currency.is_superseded() {
        let message = Message::new("refusal-currency-replaced").arg("code", &code).arg("successor", successor.code());
        return Err(refused(message));
    }
    match currency.exponent() {
        Some(2) => Ok(currency),
        places => {
            let message = Message::new("refusal-currency-places").arg("code", &code).arg("places", places.unwrap_or(0));
            Err(refused(message))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use jiff::civil::date;

    use super::*;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn a_four_hour_sla_in_business_hours_skips_the_evening_and_the_weekend_in_the_tenant_zone() {
        let berlin = Locale::new("Europe/Berlin", "EUR").unwrap();
        let office = WorkingHours { days: vec![1, 2, 3, 4, 5], start_minute: 9 * 60, end_minute: 17 * 60 };
        // (from, minutes, expected): Friday 2026-12-04 16:00 +01:00 is 15:00 UTC.
        let cases = [
            ("2026-12-04T15:00:00Z", 240, "2026-12-07T11:00:00Z"),
            ("2026-12-05T10:00:00Z", 240, "2026-12-07T12:00:00Z"),
            ("2026-12-07T06:00:00Z", 60, "2026-12-07T09:00:00Z"),
            ("2026-12-07T09:00:00Z", 8 * 60 + 30, "2026-12-08T09:30:00Z"),
        ];
        for (from, minutes, expected) in cases {
            assert_eq!(berlin.add_working_minutes(ms(from), minutes, &office), ms(expected), "{from} + {minutes}m");
        }
        let never = WorkingHours { days: vec![], start_minute: 540, end_minute: 1020 };
        assert_eq!(berlin.add_working_minutes(ms("2026-12-05T10:00:00Z"), 240, &never), ms("2026-12-05T14:00:00Z"));
    }

    #[test]
    fn an_order_at_23_30_utc_falls_on_the_next_local_day_in_shanghai() {
        let shanghai = Locale::new("Asia/Shanghai", "CNY").unwrap();
        let at = ms("2026-03-04T23:30:00Z");
        assert_eq!(shanghai.day_of(at), date(2026, 3, 5));
        assert_eq!(shanghai.datetime(at), "2026-03-05 07:30 +08:00");
        assert_eq!(shanghai.start_of(date(2026, 3, 5)), ms("2026-03-04T16:00:00Z"));
        assert_eq!(Locale::default().day_of(at), date(2026, 3, 4));
    }

    #[test]
    fn local_days_across_a_daylight_saving_change_last_23_and_25_hours() {
        let berlin = Locale::new("Europe/Berlin", "EUR").unwrap();
        let hours = |day: Date| (berlin.start_of(day.tomorrow().unwrap()) - berlin.start_of(day)) / 3_600_000;
        assert_eq!(hours(date(2026, 3, 29)), 23);
        assert_eq!(hours(date(2026, 10, 25)), 25);
        assert_eq!(hours(date(2026, 6, 1)), 24);
        // Seven local days back from just after midnight on the Monday after the change.
        let now = ms("2026-03-29T22:30:00Z");
        assert_eq!(berlin.date(now), "2026-03-30");
        assert_eq!(berlin.start_of_days_back(now, 7), ms("2026-03-22T23:00:00Z"));
        assert_eq!(berlin.datetime(ms("2026-03-29T01:30:00Z")), "2026-03-29 03:30 +02:00");
        assert_eq!(berlin.timestamp(ms("2026-03-29T00:30:00Z")), "2026-03-29T01:30:00+01:00");
    }

    #[test]
    fn amounts_carry_the_currency_code() {
        let locale = Locale::new("UTC", "cny").unwrap();
        assert_eq!(locale.money(123_456_789), "1,234,567.89 CNY");
        assert_eq!(locale.currency(), "CNY");
        assert_eq!(Locale::default().money(-5), "-0.05 USD");
    }

    #[test]
    fn a_chinese_reader_sees_chinese_dates_and_yuan_with_their_sign_and_other_programs_see_no_change() {
        let shanghai = Locale::new("Asia/Shanghai", "CNY").unwrap().with_language(Language::Chinese);
        let at = ms("2026-03-29T01:15:00Z");
        assert_eq!(shanghai.datetime(at), "2026年3月29日 09:15");
        assert_eq!(shanghai.day_label(at), "2026年3月29日");
        assert_eq!(shanghai.money(123_450), "¥1,234.50");
        assert_eq!(shanghai.money(-5), "-¥0.05");
        // What programs read stays the same.
        assert_eq!(shanghai.date(at), "2026-03-29");
        assert_eq!(shanghai.timestamp(at), "2026-03-29T09:15:00+08:00");
        let english = shanghai.clone().with_language(Language::English);
        assert_eq!(english.money(123_450), "1,234.50 CNY");
        assert_eq!(english.datetime(at), "2026-03-29 09:15 +08:00");
        let euros = Locale::new("Europe/Berlin", "EUR").unwrap().with_language(Language::Chinese);
        assert_eq!(euros.money(123_450), "1,234.50 EUR");
    }

    #[test]
    fn unknown_zones_and_currencies_are_refused_with_the_value_named() {
        let reason = |zone: &str, currency: &str| Locale::new(zone, currency).unwrap_err().to_string();
        assert!(reason("Mars/Olympus", "EUR").contains("unknown time zone \"Mars/Olympus\""));
        assert!(reason("", "EUR").contains("time zone is empty"));
        assert!(reason("UTC", "EURO").contains("unknown currency \"EURO\""));
        assert!(reason("UTC", "XAU").contains("not money"));
        assert!(reason("UTC", "HRK").contains("replaced by EUR"));
        assert!(reason("UTC", "JPY").contains("0 decimal places"));
    }
}
