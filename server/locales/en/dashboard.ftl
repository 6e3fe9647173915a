# The HQ dashboard's texts in English. Ids are grouped by page: nav-, login-, orders-, …
# A text with arguments names them `{ $name }`; the Chinese file uses the same names.

## The frame: brand, navigation, header, roles, statuses

brand = FieldSync HQ
nav-overview = Overview
nav-orders = Orders
nav-approvals = Approvals
nav-out-of-office = Out of office
nav-policy = Policy
nav-api-keys = API keys
nav-inspections = Inspections
nav-alerts = Alerts
nav-stores = Stores
nav-devices = Devices
nav-webhooks = Webhooks
nav-users = Users
nav-store-admin = Store admin
nav-templates = Templates
nav-imports = Imports
nav-settings = Settings
header-who = { $user } ({ $role })
header-language = Language
header-language-save = Change
header-log-out = Log out
dialog-close = Close
dialog-photo = photo
live-connected = live
live-reconnecting = reconnecting

role-hq = hq
role-manager = manager
role-supervisor = supervisor
role-rep = rep

status-draft = draft
status-submitted = submitted
status-needs-approval = needs-approval
status-approved = approved
status-rejected = rejected
inspection-status-open = open
inspection-status-checked-out = checked-out
trust-pass = pass
trust-review = review
trust-rejected = rejected
severity-info = info
severity-warning = warning
severity-error = error

## Filters and lists

filter-search = Search
filter-status = Status
filter-store = Store
filter-any = any
filter-from = From
filter-to = To
filter-apply = Filter
filter-export-csv = Export CSV
orders-export-lines = Export lines (CSV)
list-times-in = . Times in { $zone }.
list-first-page = Back to the first page
list-comma = {", "}

## Errors and the 404 page

section-overview = the overview
section-orders = orders
section-inspections = inspections
section-devices = devices
section-stores = stores
section-alerts = alerts
error-section = { $section } are for HQ and managers; a { $role } cannot open this page
error-admin = the admin pages are for HQ; a { $role } cannot open this page
error-rep = reps use the FieldSync phone app; the dashboard is for HQ, managers and supervisors
error-csrf = the form's security token is missing or wrong; reload and try again
error-forbidden-title = Not allowed
error-internal-title = Something went wrong
error-internal-text = internal error; the relay log has the details
error-not-found-title = Not found
error-refused-title = Cannot do that
error-back = Back to the overview
not-found-title = Not found
not-found-text-before = There is no dashboard page at{" "}
not-found-text-after = .

## Login

login-sign-in = Sign in
login-note = For HQ, managers and supervisors. Reps use the phone app.
login-company = Company
login-username = Username
login-password = Password
login-incomplete = the form was incomplete; try again
login-expired = the sign-in form expired; please sign in again
login-wrong = wrong company, username or password
login-rate-limited = too many failed sign-ins; try again in { $seconds } s

## Times and charts

time-just-now = just now
time-minutes-ago = { $minutes } min ago
time-hours-ago = { $hours } h ago
time-days-ago = { $days } days ago
time-duration-minutes = { $minutes } min
time-duration-hours = { $hours } h { $minutes } min
time-duration-days = { $days } d { $hours } h

chart-empty = { $chart }: nothing to show yet.
chart-orders-title = Submitted orders per day, last { $days } days
chart-orders-x = Day ({ $zone })
chart-orders-y = Orders
chart-orders-bar = { $day }: { $count } orders
chart-scores-title = Inspection scores in 10-point buckets, { $what } ({ $scored } scored)
chart-scores-x = Score
chart-scores-y = Inspections
chart-scores-bar = score { $low } to { $high }: { $count } inspections
chart-approval-title = Approval times from submission to decision, orders that needed approval ({ $decided } decided)
chart-approval-x = Time from submission to decision
chart-approval-y = Orders
chart-approval-bar = decided in { $bucket }: { $count } orders
chart-approval-under-1h = < 1 h
chart-approval-1-4h = 1–4 h
chart-approval-4-8h = 4–8 h
chart-approval-8-24h = 8–24 h
chart-approval-1-2d = 1–2 d
chart-approval-2-7d = 2–7 d
chart-approval-over-7d = ≥ 7 d

## Overview

overview-title = Overview
overview-note = Times in { $zone }; amounts in { $currency }. Today started { $today }.
overview-kpi-orders-today = orders today
overview-kpi-value-today = value today
overview-kpi-approvals = approvals pending, { $waiting } waiting on you
overview-kpi-inspections = inspections, { $days } days
overview-kpi-score = average score ({ $scored } scored)
overview-kpi-approval-time = median approval time ({ $decided } decided, { $days } days)
overview-kpi-coverage = store coverage: { $visited } of { $stores } visited, { $days } days
overview-kpi-alerts = open alerts
overview-orders-per-day = Orders per day
overview-latest-orders = Latest orders
overview-all-orders = all orders
overview-scores = Inspection scores, { $days } days
overview-last-days = last { $days } days
overview-approval-times = Approval times, { $days } days
overview-open-alerts = Open alerts
overview-alerts-shown = ({ $shown } of { $total })
overview-work-through = work through them

## Orders list

orders-title = Orders
orders-search-placeholder = number, store, rep, product
orders-sort = Sort
orders-sort-newest = newest
orders-sort-oldest = oldest
orders-sort-largest = largest
orders-waiting-anyone = anyone
orders-waiting-me = me
orders-summary = { $count } orders, { $total } in total
orders-summary-window = , last { $days } days (clear the dates for every order)
orders-next = Next { $count } orders
orders-approval-times = Approval times of these orders
orders-col-order = Order
orders-col-when = When
orders-col-store = Store
orders-col-rep = Rep
orders-col-status = Status
orders-col-waiting-on = Waiting on
orders-col-lines = Lines
orders-col-value = Value
orders-empty = No orders match.
orders-not-reviewed = not reviewed yet

## One order

order-title = Order
order-heading = Order { $number } for { $store }
order-heading-unnumbered = Order for { $store }
order-rep = Rep
order-created = created { $at }
order-submitted = submitted { $at }
order-not-submitted = not submitted
order-submission = submission { $submission }
order-status = status
order-notes = Notes:
order-lines = Lines
order-col-sku = SKU
order-col-qty = Qty
order-col-unit-price = Unit price
order-col-discount = Discount
order-col-total = Total
order-review = Review
order-not-reviewed = The relay has not reviewed this order yet.
order-outcome = Outcome
order-outcome-details = for submission { $submission } · reviewed { $reviewed } · priced at { $total }
order-col-severity = Severity
order-col-finding = Finding
order-col-code = Code
order-no-findings = No findings.
order-approval-steps = Approval steps
order-col-approver = Approver
order-col-rule = Rule
order-col-state = State
order-col-decided = Decided
order-col-reason = Reason
order-no-approval = No approval needed.
order-on-behalf-of = on behalf of { $user }
order-escalated = escalated { $at }:
order-due = due { $at }
order-your-decision = Your decision
order-step-waits = Step { $step } waits for you.
order-approve = Approve
order-reject-reason = Reason (required to reject; the rep sees it)
order-reject = Reject
order-decided-approved = Your decision is recorded: the order is approved.
order-decided-rejected = Your decision is recorded: the order is rejected.
order-decided-next-step = Your approval is recorded: the next step waits for its approver.

## Approvals queue and report

approvals-title = Approvals
approvals-heading = Waiting on you
approvals-summary = { $count } orders wait for your decision
approvals-overdue = { $count } overdue
approvals-summary-order = . Earliest deadline first; times in { $zone }.
approvals-empty = Nothing waits on you.
approvals-col-step = Step
approvals-col-submitted = Submitted
approvals-col-due = Due
approvals-col-time-left = Time left
approvals-no-deadline = no deadline
approvals-overdue-by = overdue by { $time }
approvals-time-left = { $time } left
approvals-approve-selected = Approve selected
approvals-bulk-approved = { $approved } of { $total } approved.
approvals-bulk-ok = { $number }: approved
approvals-bulk-next-step = { $number }: approved, the next step waits for its approver
approvals-bulk-refused = { $order }: not approved: { $reason }

approval-report-title = Where approval time goes
report-note = Approval steps that started waiting in the last { $days } days, in your scope.
report-days = { $days } days
report-median-per-day = Median time to decide, per day
report-by-step = By step
report-by-approver = By approver
report-by-rule = By rule
report-col-step = step
report-col-approver = approver
report-col-rule = rule
report-col-steps = Steps
report-col-decided = Decided
report-col-median = Median
report-col-overdue = Overdue
report-col-escalated = Escalated
report-chart-title = Median time to decide an approval step, per day, last { $days } days
report-chart-x = Day decided
report-chart-y = Minutes
report-chart-bar = { $day }: median time to decide { $minutes } min

## Out of office

ooo-title = Out of office
ooo-current-before = Steps routed to you go to{" "}
ooo-current-after = {" "}from { $from } until { $until }.
ooo-current-after-now = {" "}from { $from } until { $until } (now).
ooo-not-away = You are not out of office.
ooo-delegate = Delegate
ooo-from = from
ooo-to = to
ooo-set = Set
ooo-end = End
ooo-note = Days in { $zone }, both included. A manager delegates to a manager or HQ, HQ to HQ; a delegation that leads back to you is refused.
ooo-done-back = You are back: steps come to you again.
ooo-done-set = Out of office set.

## Approval policy

policy-title = Approval policy
policy-hq-only = only hq edits the approval policy
policy-note = Published version { $version }. Orders already routed keep the version they were routed with.
policy-check = Check and what-if
policy-publish = Publish
policy-no-errors = No errors.
policy-what-if = What if: the last { $days } days re-routed
policy-what-if-summary = { $orders } orders; { $changed } change route; approved automatically: { $now } now, { $draft } with the draft.
policy-col-route = Route
policy-col-now = Now
policy-col-draft = Draft
policy-col-steps-now = Steps now
policy-col-with-draft = With the draft
policy-col-added = Added
policy-published = Published as version { $version }.

## API keys

keys-title = API keys
keys-copy-now = Copy the key now: it is shown this once.
keys-name = Name
keys-create = Create key
keys-col-key = Key
keys-col-scopes = Scopes
keys-col-created = Created
keys-col-last-used = Last used
keys-col-uses = Uses
keys-never = never
keys-revoked-at = revoked { $at }
keys-revoke = Revoke
keys-note = Integrations send a key as Authorization: Bearer fsk_…; it reaches only the routes of its scopes. A revoked key is refused at its next request.
keys-done-created = Created key { $name } with { $scopes }.
keys-done-revoked = Revoked key { $name }.

## Inspections list

inspections-title = Inspections
inspections-search-placeholder = store, supervisor
inspections-score-from = Score from
inspections-score-to = to
inspections-summary = { $count } inspections, { $scored } scored
inspections-summary-average = , average score { $average }
inspections-summary-window = , last { $days } days (clear the dates for every inspection)
inspections-col-checked-in = Checked in
inspections-col-store = Store
inspections-col-supervisor = Supervisor
inspections-col-status = Status
inspections-col-answers = Answers
inspections-col-photos = Photos
inspections-col-score = Score
inspections-col-verdicts = Photo verdicts
inspections-empty = No inspections match.
inspections-verdicts = { $pass } pass · { $review } to review · { $rejected } rejected
inspections-next = Next { $count } inspections
inspections-score-distribution = Score distribution
inspections-above = the inspections above

## One inspection

inspection-title = Inspection
inspection-heading = Inspection at { $store }
inspection-supervisor = Supervisor
inspection-template = template
inspection-template-unknown = unknown
inspection-check-in = Check-in { $at } at { $place }
inspection-check-out = check-out { $at } at { $place }
inspection-rounded = Coordinates are rounded for your role.
inspection-photos = Photos
inspection-no-photos = No photos.
inspection-photo-for = photo for { $item }
inspection-answers = Answers
inspection-col-item = Item
inspection-col-answer = Answer
inspection-col-count = Count
inspection-col-note = Note
inspection-col-answered = Answered
inspection-answer-yes = yes
inspection-answer-no = no
inspection-answer-na = n/a
inspection-not-answered = not answered
inspection-score = Score
inspection-not-scored = Not scored yet: the relay scores an inspection after check-out, once its photos arrived.
inspection-scoring-version = (scoring version { $version }, { $at })
inspection-verdict = Verdict:
inspection-col-earned = Earned
inspection-col-weight = Weight
inspection-col-why = Why
inspection-col-photo = Photo
inspection-col-quality = Quality
inspection-col-trust = Trust
inspection-reviewed = Reviewed:
inspection-reviewed-by = by { $user } { $at }:
inspection-review-accepted = accepted
inspection-review-rejected = rejected
inspection-reason = reason
inspection-accept = Accept
inspection-reject = Reject
inspection-review-done = Photo { $photo }… { $decision }; the score is now { $score }.

## Alerts

alerts-title = Alerts
alerts-tab-open = Open
alerts-tab-snoozed = Snoozed
alerts-tab-closed = Closed (history)
alerts-kind = Kind
alerts-kind-low-stock = Low stock
alerts-kind-promotion-not-started = Promotion not started
alerts-kind-sales-falling = Sales falling
alerts-search-placeholder = store, product, title
alerts-show = Show
alerts-count-open = { $count ->
    [one] { $count } open alert
   *[other] { $count } open alerts
}
alerts-count-snoozed = { $count ->
    [one] { $count } snoozed alert
   *[other] { $count } snoozed alerts
}
alerts-count-closed = { $count ->
    [one] { $count } closed alert
   *[other] { $count } closed alerts
}
alerts-count-on-page = { $line }; { $shown } on this page
alerts-next-page = Next page
alerts-col-raised = Raised
alerts-col-alert = Alert
alerts-col-store = Store
alerts-col-detail = Detail
alerts-col-product = Product
alerts-col-age = Age
alerts-col-owner = Owner
alerts-col-status = Status
alerts-col-act = Act
alerts-closed-age = closed { $age }
alerts-reassigned-to = reassigned to { $user }
alerts-acknowledged-by = Acknowledged by
alerts-snoozed-until = Snoozed until { $day } by { $user }
alerts-actions = { $count ->
    [one] { $count } action
   *[other] { $count } actions
}
alerts-history-acknowledged = acknowledged
alerts-history-snoozed = snoozed until { $day }
alerts-history-reassigned = reassigned to { $user }
alerts-note = note
alerts-note-placeholder = note (optional)
alerts-acknowledge = Acknowledge
alerts-snooze-until = snooze until
alerts-snooze = Snooze
alerts-reassign-to = reassign to
alerts-reassign = Reassign
alerts-done-acknowledged = Alert acknowledged.
alerts-done-snoozed = Alert snoozed until { $day }.
alerts-done-reassigned = Alert reassigned to { $user }.

## Stores

stores-title = Stores
stores-period = Period
stores-rollout = Product rollout
stores-newest = newest
stores-coverage = Coverage, last { $days } days
stores-coverage-note = Share of active stores with at least one inspection check-in since { $since }.
stores-col-region = Region
stores-col-stores = Stores
stores-col-visited = Visited
stores-col-coverage = Coverage
stores-all = All
stores-rollout-of = Rollout of { $sku } · { $name }
stores-rollout-share = { $reached } of { $stores } stores ({ $share }%)
stores-ordered-it = ordered it
stores-rollout-which = (submitted orders not rejected)
stores-rollout-note = Product rollout is read from orders, which HQ and managers see.
stores-count = Stores ({ $count })
stores-count-found = Stores ({ $found } of { $count })
stores-none-match = No stores match.
stores-next = Next { $rows } stores
stores-search-placeholder = store, code, address, person
stores-col-store = Store
stores-col-tier = Tier
stores-col-last-visit = Last visit
stores-col-last-score = Last score
stores-col-visits = Visits, { $days } d
stores-col-first-ordered = { $sku } first ordered
stores-col-units = Units
stores-empty = No stores in your scope.
stores-not-yet = not yet

## Devices

devices-title = Devices
devices-search-placeholder = user, name, device
devices-count = { $count ->
    [one] { $count } user
   *[other] { $count } users
}
devices-next = Next { $rows } users
devices-note = The relay records a device as seen on every authenticated request (at most once a minute), and at every sync how many documents the phone still held that the relay had not accepted (its outbox, and any the relay refused). What a phone did after its last sync the relay cannot know: one whose last sync is older than { $hours } h may hold more.
devices-col-user = User
devices-col-role = Role
devices-col-region = Region
devices-col-device = Device
devices-col-last-sync = Last sync
devices-col-unsynced = Unsynced at last sync
devices-col-newest-order = Newest order at the relay
devices-col-health = Health
devices-col-wipe = Remote wipe
devices-disabled = disabled
devices-no-device = no device
devices-never = never
devices-never-signed-in = never signed in
devices-signed-in = signed in { $age }
devices-none = none
devices-documents = { $count ->
    [one] { $count } document
   *[other] { $count } documents
}
devices-not-reported = not reported
devices-browser = browser
devices-never-synced = never synced
devices-stale = not synced for over { $hours } h
devices-recent = recent
devices-holding = Devices holding unsynced work
devices-holding-none = None: at its last sync every device had handed the relay all its work.
devices-holding-count = { $count } unsynced
devices-holding-at = at its last sync, { $age }
devices-stale-reps = Reps who may hold unsynced orders
devices-stale-reps-none = None: every rep's phone synced in the last { $hours } hours.
devices-last-sync = last sync { $age }
devices-revoke = Revoke and wipe
devices-revoke-title = Revoke { $device } and wipe it at its next contact
devices-disable-user = Disable user

## Users (admin)

users-title = Users
users-new = New user
users-username = Username
users-display-name = Display name
users-role = Role
users-region = Region
users-region-placeholder = none for HQ
users-initial-password = Initial password
users-create = Create user
users-search-placeholder = username, name
users-disabled = Disabled
users-enabled-only = enabled only
users-disabled-only = disabled only
users-count = { $shown } of { $total } users
users-col-user = User
users-col-role-region = Role and region
users-col-created = Created
users-col-status = Status
users-col-password = Password
users-field-region = region
users-field-display-name = display name
users-save = Save
users-enable = Enable
users-disable = Disable
users-tag-disabled = disabled
users-tag-active = active
users-new-password = new password
users-reset = Reset
users-done-created = Created user { $user } ({ $role }).
users-done-saved = Saved { $user }: { $role }.
users-done-saved-region = Saved { $user }: { $role } in { $region }.
users-done-disabled = Disabled { $user } and ended their sessions.
users-done-enabled = Enabled { $user }: they can sign in again.
users-done-password = Set a new password for { $user }.

## Stores (admin)

store-admin-title = Stores
store-admin-new = New store
store-admin-edit = Edit store
store-admin-search-placeholder = name, code, address, customer
store-admin-state = State
store-admin-served = served
store-admin-closed = closed
store-admin-count = { $count ->
    [one] { $count } store
   *[other] { $count } stores
}
store-admin-col-code = Code
store-admin-col-name = Name
store-admin-col-address = Address
store-admin-col-region = Region
store-admin-col-tier = Tier
store-admin-col-customer = Customer
store-admin-col-rep = Rep
store-admin-col-supervisor = Supervisor
store-admin-choose = choose…
store-admin-customer-id = Customer id
store-admin-geofence = Geofence
store-admin-latitude = Latitude
store-admin-longitude = Longitude
store-admin-radius = Radius (m)
store-admin-radius-placeholder = default
store-admin-served-checkbox = Served
store-admin-save = Save store
store-admin-create = Create store
store-admin-cancel = Cancel
store-admin-done-created = Created store { $name } ({ $code }).
store-admin-done-saved = Saved store { $name } ({ $code }).
store-admin-done-unchanged = Store { $name } was already so: nothing changed.

## Checklist templates (admin)

templates-title = Checklist templates
templates-new = New template
templates-edit = Edit template
templates-col-name = Name
templates-col-items = Items
templates-col-version = Version
templates-none = No templates yet.
templates-name = Name
templates-items = Items, one per line: weight | photo | question
templates-items-placeholder =
    2 | photo | Is the shelf full?
    1 |  | Are the prices shown?
templates-save = Save template
templates-create = Create template
templates-cancel = Cancel
templates-note = An edited question is a new item; an unchanged one keeps its answers in past inspections.
templates-done-created = Created template { $name } with { $count } item(s).
templates-done-saved = Saved template { $name }: a new version.
templates-done-unchanged = Template { $name } was already so: nothing changed.

## Imports (admin)

imports-title = Imports
imports-dataset = Dataset
imports-file = CSV file
imports-paste = Or paste the CSV, header line first
imports-note = The columns of each dataset are in the import guide (docs/imports.md). Preview checks every line and writes nothing.
imports-preview = Preview
imports-history = History
imports-col-when = When
imports-col-who = Who
imports-col-dataset = Dataset
imports-col-file = File
imports-col-rows = Rows
imports-col-outcome = Outcome
imports-col-detail = Detail
imports-none = No imports yet.
imports-outcome-applied = applied
imports-outcome-refused = refused
imports-outcome-failed = failed
imports-outcome-running = running
imports-outcome-interrupted = interrupted
imports-clean = { $rows } { $dataset } row(s), no errors. Nothing has been written yet.
imports-apply = Apply import
imports-refused = { $count } bad line(s): nothing was written. Correct the file and preview it again.
imports-col-line = Line
imports-col-reason = Reason
imports-line-file = file
imports-more = and { $count } more
imports-done = imported { $rows } { $dataset } row(s): { $created } { $counted ->
    [documents] document(s)
    [products] product(s)
    [prices] price(s)
   *[rows] row(s)
} created, { $updated } updated, { $unchanged } unchanged.
imports-uploading = Sending the file
imports-run-title = Import { $id }
imports-run-note = The relay imports the file on its own: you may leave this page and come back to it from the history.
imports-run-starting = starting…
imports-run-checking = checking: { $rows } rows, { $read } of { $total } MB
imports-run-writing = writing: { $done } of { $total } { $counted ->
    [documents] documents
    [catalog] catalog documents
   *[rows] rows
}
imports-run-writing-bytes = writing: { $read } of { $total } MB
imports-run-failed = The import failed.
imports-run-interrupted = This import was interrupted: its relay stopped while it ran (last heard of at { $at }). Sales and purchases were not written; documents written before it stopped are kept. Preview and apply the file again: what is already there stays unchanged.
imports-run-back = Back to the imports

## Webhooks

webhooks-title = Webhooks
webhooks-note = The event feed has { $count } event(s). Each subscription receives them in order, signed; an event its receiver refuses through every retry becomes a dead letter below, and delivery goes on with the next.
webhooks-none = No subscriptions yet: create one with POST /v1/webhooks or admin subscribe.
webhooks-types = Types: { $types }
webhooks-types-all = all
webhooks-created = created { $at }
webhooks-delivered-up-to = delivered up to
webhooks-delivered-of = of { $last }
webhooks-no-dead-letters = No dead letters.
webhooks-col-position = Position
webhooks-col-event = Event
webhooks-col-type = Type
webhooks-col-attempts = Attempts
webhooks-col-last-answer = Last answer
webhooks-col-given-up = Given up
webhooks-replay-after = Send again every event after position
webhooks-replay = Replay
webhooks-bad-position = position "{ $position }" is not a whole number of 0 or more
webhooks-done-replay = Subscription { $id } receives every event after position { $after } again.

## The tenant's settings page
settings-title = Tenant settings
settings-tenant = Tenant:
settings-time-zone = Time zone (IANA name)
settings-currency = Currency (ISO 4217 code)
settings-language = Default language
settings-language-browser = Each browser's language
settings-note = Days are counted in the time zone; amounts are shown in the currency. A person's own language (the picker at the top) wins over the default.
settings-save = Save settings
settings-saved = Settings saved.
