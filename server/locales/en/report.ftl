# The inspection report page in English (GET /v1/inspections/{id}/report).

report-title = Inspection report: { $store }
report-heading = Inspection report
report-store = Store:
report-checklist = Checklist:
report-supervisor = Supervisor:
report-visit = Visit:
report-visit-span = { $from } to { $to }
report-not-checked-out = (not checked out)
report-inspection = Inspection:
report-verdict = Verdict:
report-scored = Scored { $at } with scoring rules version { $version }, inspection heads { $heads }.
report-checklist-heading = Checklist
report-photos-heading = Photos
report-item = Item
report-points = Points
report-why = Why
report-photo = Photo
report-quality = Quality
report-evidence = Evidence
report-photo-alt = photo { $photo }
report-no-thumbnail = (no thumbnail)
report-trust-pass = trusted
report-trust-review = review
report-trust-rejected = rejected
