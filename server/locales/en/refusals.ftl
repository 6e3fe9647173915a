# Refusals in English: why a service refused something a person can correct (a taken username,
# a snooze date in the past, a bad import line). The API, the command line and the logs read these
# sentences; the dashboard shows the same message in the viewer's language. Arguments arrive
# formatted (quoted values as the relay quotes them); { $role }, { $field } and the like are parts:
# texts of the relay's catalog themselves (role-… from dashboard.ftl, refusal-field-… below).

## Names, passwords, roles and regions (services/accounts)

refusal-field-tenant-name = tenant name
refusal-field-username = username
refusal-field-region = region
refusal-field-api-key-name = api key name
refusal-name-length = invalid { $field } { $value }: must be 1 to { $max } characters
refusal-name-chars = invalid { $field } { $value }: use lowercase letters, digits, '-', '_' or '.'
refusal-name-start = invalid { $field } { $value }: must start with a letter or a digit
refusal-display-name = invalid display name { $name }: at most 100 characters without control characters
refusal-password-short = invalid password: must be at least 8 characters
refusal-password-long = invalid password: must be at most 256 bytes
refusal-password-control = invalid password: must not contain control characters
refusal-unknown-role = unknown role { $role }: expected rep, supervisor, manager or hq
refusal-hq-no-region = hq users see the whole tenant and take no region, got region { $region }
refusal-region-needed = a { $role } needs a region (--region)
refusal-language-not-spoken = language "{ $tag }" is not spoken here (use en or zh-CN)
refusal-tenant-exists = tenant { $name } already exists
refusal-user-exists = user { $username } already exists in the tenant
refusal-self-change = user { $username } is the one making this request: ask another HQ user
refusal-own-user = user { $username } is the one making this request
refusal-own-device = device { $device } is the one making this request

## Who may do what (the caller's checks)

refusal-hq-only = only HQ may { $action }, not a { $role }
refusal-key-cannot = api key { $key } cannot { $action }: sign in as HQ
refusal-key-lacks-scope = api key { $key } lacks the scope { $scope }
refusal-scope-needs-hq = only HQ or an api key with the scope { $scope } may do this, not a { $role }
refusal-action-create-user = create a user
refusal-action-reset-password = reset a password
refusal-action-enable-user = enable a user
refusal-action-change-user = change a user
refusal-action-disable-user = disable a user
refusal-action-revoke-device = revoke a device
refusal-action-create-store = create a store
refusal-action-edit-store = edit a store
refusal-action-manage-templates = manage checklist templates
refusal-action-import-data = import data
refusal-action-see-import-history = see the import history
refusal-action-see-import-run = see an import run
refusal-action-manage-api-keys = manage api keys
refusal-action-manage-webhooks = manage webhooks

## API keys and event subscriptions

refusal-unknown-scope = unknown scope { $scope }: use { $scopes }
refusal-scope-needed = an api key needs a scope: { $scopes }
refusal-api-key-live = an api key named { $name } is already live: revoke it first

## Stores (services/stores, the store admin page)

refusal-field-store-name = store name
refusal-field-store-code = store code
refusal-field-address = address
refusal-field-customer-id = customer id
refusal-field-latitude = latitude
refusal-field-longitude = longitude
refusal-field-geofence = geofence radius
refusal-store-code-length = invalid store code { $code }: must be 1 to { $max } characters
refusal-store-code-chars = invalid store code { $code }: use capital letters A-Z, digits and '-'
refusal-store-code-start = invalid store code { $code }: must start with a letter or a digit
refusal-latitude = invalid latitude { $value }: must be from -90 to 90 degrees
refusal-longitude = invalid longitude { $value }: must be from -180 to 180 degrees
refusal-geofence = invalid geofence radius { $value } m: 0 for the default, or { $min } to { $max } m
refusal-store-text = invalid { $field } { $value }: must be 1 to { $max } characters without control characters
refusal-tier = invalid tier { $tier }: expected one of { $tiers }
refusal-person-unknown = { $column } { $username } is not a user of this tenant
refusal-person-role = { $column } { $username } is a { $actual }, not a { $role }
refusal-store-taken = { $what } { $value } is already used by store { $other }
refusal-not-a-number = invalid { $field } { $value }: expected a number

## Checklist templates (services/templates, the template admin page)

refusal-template-name = invalid template name { $name }: must be 1 to { $max } characters without control characters
refusal-template-items = a template needs 1 to { $max } items, got { $count }
refusal-template-question = invalid question { $text } of item { $item }: must be 1 to { $max } characters
refusal-template-weight = invalid weight { $weight } of item { $item }: must be above 0 and at most { $max }
refusal-template-repeated = item { $item } repeats the question { $text }
refusal-item-line = item line { $line } ({ $text }): { $reason }
refusal-item-line-parts = write weight | photo | question
refusal-item-line-weight = the weight is not a number
refusal-item-line-photo = the middle part is "photo" or empty

## Dates in forms (services/listing)

refusal-field-from-date = from date
refusal-field-to-date = to date
refusal-field-snooze-date = snooze date
refusal-not-a-date = invalid { $field } { $value }: expected a date as YYYY-MM-DD
refusal-date-range = the date range ends ({ $to }) before it starts ({ $from })

## Alerts (services/alerts/triage, the alerts page)

refusal-alert-key = invalid alert key { $key }
refusal-alert-closed = alert { $key } is closed: its cause cleared
refusal-note-too-long = the note is { $length } characters long; at most { $max } are kept
refusal-snooze-missing = give the day the alert should come back
refusal-snooze-past = snooze date { $day } is not after today ({ $today })
refusal-snooze-too-far = snooze date { $day } is more than { $max } days ahead
refusal-assignee-unknown = no active user { $username } to reassign to
refusal-assignee-outside = user { $username } is outside your region; hand the alert to someone of yours or to HQ
refusal-unknown-alert-action = unknown action { $action }: expected acknowledge, snooze or reassign

## Photo review (services/inspections/review)

refusal-photo-decision = invalid decision { $decision }: expected accepted or rejected
refusal-reason-missing = give a reason for the decision
refusal-reason-too-long = the reason is { $length } characters long; at most { $max } are kept
refusal-photo-reviewer = photos are reviewed by the supervisor's manager or HQ; a { $role } cannot
refusal-inspection-not-scored = inspection { $inspection } is not scored yet: review its photos once it is
refusal-photo-not-to-review = photo { $photo } is { $state }, not to review
refusal-photo-not-scored = not scored
refusal-photo-pass = pass
refusal-photo-review = review
refusal-photo-rejected = rejected

## Users page

refusal-unknown-user-action = unknown user action { $action }

## Decisions and approvals (services/orders)

refusal-verdict = invalid verdict { $verdict }: expected approve or reject
refusal-decider-role = a { $role } cannot decide approval steps; managers and hq can
refusal-order-not-reviewed = order { $order } has not been reviewed yet
refusal-decision-own-order = { $approver } owns order { $order } and cannot decide on it
refusal-decision-not-approver = step { $step } of order { $order } is for { $expected }, not for { $approver }
refusal-decision-reason = rejecting step { $step } of order { $order } needs a reason
refusal-decision-unknown-step = order { $order } has no approval step { $step }
refusal-decision-not-current = step { $step } of order { $order } is not waiting for a decision (order is { $outcome })
refusal-decision-other-submission = decision is for submission { $decision } of order { $order }, but submission { $review } is under review
refusal-invalid-step = invalid step { $value }
refusal-invalid-submission = invalid submission { $value }
refusal-approver-role = a { $role } approves nothing; managers and hq do
refusal-selection = invalid selection { $selection }: expected order-id:step:submission
refusal-nothing-selected = no order selected: tick the orders to approve
refusal-too-many-selected = { $count } orders selected: approve at most { $max } at once

## Out of office (services/orders/delegation, the out-of-office page)

refusal-delegator-role = a { $role } approves nothing and has nothing to delegate
refusal-delegate-unknown = unknown delegate { $delegate }: no such user
refusal-delegate-self = { $delegate } cannot be their own delegate
refusal-delegate-disabled = delegate { $delegate } is disabled
refusal-delegate-cannot-decide = delegate { $delegate } is a { $who } and cannot decide for a { $approver }: choose { $choose }
refusal-role-of-region = { $role } of region { $region }
refusal-role-alone = { $role }
refusal-choose-manager-or-hq = a manager of region { $region } or an hq user
refusal-choose-hq = an hq user
refusal-away-ends-first = the out-of-office period ends ({ $ends }) before it starts ({ $starts })
refusal-away-over = the out-of-office period is over already
refusal-away-too-long = an out-of-office period lasts at most 366 days
refusal-delegate-loop = delegating to { $delegate } would form a loop: { $chain }
refusal-away-days-needed = give the first and the last day away
refusal-unknown-away-action = unknown action { $action }: expected set or end

## The event feed and webhooks (services/events)

refusal-feed-reader = user { $username } may not read the event feed: it needs an HQ login or an api key with the scope { $scope }
refusal-cursor = cursor { $cursor } is not a position from this feed
refusal-cursor-past-end = cursor "{ $cursor }" is not a position from this feed: it is past its end
refusal-event-type = unknown event type { $type }
refusal-event-type-expected = unknown event type { $type }: expected one of { $types }
refusal-feed-limit = limit { $limit } must be a whole number from 1 to { $max }
refusal-subscriptions-key = api key { $key } may not manage event subscriptions: it needs an HQ login
refusal-subscriptions-user = user { $username } may not manage event subscriptions: it needs an HQ login

## The approval policy (services/orders/policy, the policy editor)

refusal-list = { $first }; { $rest }
refusal-policy-json = invalid policy: { $detail }
refusal-policy-approver = rule { $rule }: unknown approver { $approver }: expected manager or hq
refusal-policy-respond-within = rule { $rule }: respond_within: invalid duration { $text }: expected hours and minutes such as 4h, 90m or 1h30m, above zero
refusal-policy-escalate-to = rule { $rule }: unknown escalate_to { $target }: expected hq or next-manager-up
refusal-policy-time = working_hours.{ $field }: invalid time { $time }: expected HH:MM
refusal-policy-reminder = reminder_percent { $percent } is outside 1 to 99
refusal-policy-day = working_hours: unknown day { $day }: days are 1 (Monday) to 7 (Sunday)
refusal-policy-no-working-time = working_hours: no working time (no days, or the end is not after the start)
refusal-policy-rule-id = rule id { $rule }: use lowercase letters, digits and dashes
refusal-policy-no-name = rule { $rule }: the name is empty (reps and approvers read it)
refusal-policy-unknown-tier = rule { $rule }: unknown tier { $value }
refusal-policy-unknown-region = rule { $rule }: unknown region { $value }
refusal-policy-unknown-category = rule { $rule }: unknown category { $value }
refusal-policy-no-approvers = rule { $rule }: no approvers, so it never routes an order
refusal-policy-unreachable = rule { $rule }: unreachable: no order has a discount above 100% or a negative total
refusal-policy-never-escalates = rule { $rule }: escalate_to without respond_within: it never escalates
refusal-policy-no-hq = rule { $rule }: approver hq: nobody holds the hq role
refusal-policy-no-manager-no-hq = rule { $rule }: approver manager: no manager for region { $regions } and nobody holds the hq role
refusal-policy-no-manager = rule { $rule }: no manager for region { $regions }: hq decides there
refusal-policy-covered = rule { $rule }: unreachable in effect: rule { $other } already routes every order it matches to the same approvers, as fast
refusal-policy-hq-only = only hq edits the approval policy, not a { $role }
refusal-policy-not-published = the policy is not published: { $errors }
refusal-policy-catalogs = the tenant has { $count } catalogs; expected one

## Imports: a refused file's lines (imports/)

refusal-import-line = line { $line }: { $reason }
refusal-as-written = { $text }
refusal-unknown-dataset = unknown dataset { $dataset }: use { $datasets }
refusal-import-empty-file = the file is empty: expected a header line
refusal-import-unknown-column = unknown column { $column }: expected { $columns }
refusal-import-column-twice = column { $column } appears twice in the header
refusal-import-missing-column = missing column { $column }: expected { $columns }
refusal-import-width = { $fields } field(s) where the header has { $width }
refusal-import-not-utf8 = field { $field } is not UTF-8 text
refusal-import-csv = { $detail }
refusal-import-empty = { $column } is empty
refusal-import-region = region { $value }: { $why }
refusal-import-tier = tier { $value } must be one of A, B, C
refusal-import-tier-or-any = tier { $value } must be one of A, B, C or empty for any tier
refusal-import-whole = { $column } { $value } must be a whole number ≥ { $min }
refusal-import-degrees = { $column } { $value } must be a number of degrees from -{ $limit } to { $limit }
refusal-import-amount = { $column } { $value } must be an amount ≥ 0 with at most 2 decimals, like 12.40
refusal-import-day = day { $value } must be a date written YYYY-MM-DD
refusal-import-flag = { $column } { $value } must be true or false
refusal-import-not-a-user = { $column } { $username } is not a user of this tenant
refusal-import-duplicate-customer = customer_id { $value } already on line { $first }
refusal-import-unknown-store = customer_id { $value } is not a store of this tenant
refusal-import-unknown-sku = sku { $sku } is not in the tenant's catalog
refusal-import-duplicate-stock = sku { $sku } of warehouse { $warehouse } in { $region } already on line { $first }
refusal-import-duplicate-sku = sku { $sku } already on line { $first }
refusal-import-price-list-header = price list { $list } has tier { $tier } and region { $region } on line { $first }
refusal-import-duplicate-price = sku { $sku } from { $min } in price list { $list } already on line { $first }
refusal-import-already = { $row } already on line { $first }
refusal-import-sale-key = customer_id { $customer }, sku { $sku } on { $day }
refusal-import-purchase-key = distributor { $distributor }, region { $region }, sku { $sku } on { $day }
refusal-batch-unknown-column = unknown column { $column }
refusal-batch-missing-column = missing column { $column }
refusal-batch-not-a-value = { $column } must be a string, a number, true, false or null
refusal-batch-line-break = { $column } holds a line break

## A tenant's time zone and currency (locale.rs) and its settings page

refusal-time-zone-empty = time zone is empty: give an IANA name such as Europe/Berlin
refusal-time-zone-unknown = unknown time zone { $zone }: give an IANA name such as Europe/Berlin, Asia/Shanghai or UTC
refusal-currency-unknown = unknown currency { $code }: give an ISO 4217 code such as EUR or CNY
refusal-currency-not-money = currency { $code } ({ $name }) is not money a customer pays in
refusal-currency-replaced = currency { $code } was replaced by { $successor }: use that
refusal-currency-places = currency { $code } has { $places } decimal places; FieldSync keeps amounts in hundredths, so only currencies with two are supported
refusal-action-see-settings = see the tenant's settings
refusal-action-change-settings = change the tenant's settings

## The imports page's forms (dashboard/pages/imports.rs)

refusal-import-form-too-large = the file is larger than the page takes ({ $mib } MiB): import it through the API or the command line
refusal-import-form-unreadable = the form could not be read: { $detail }
refusal-import-not-previewed = this file was not previewed (or changed since): preview it first
