# Core's texts in English: what the phone shows from core (findings, photo quality, score reasons).
# Each id is a stable code; apps and integrations match on the code, people read the text.

## Order findings: `finding-` and the finding's code. $line is the line's number on the order.
## Where a list price came from: $source is customer, tier-region, tier, region, base or any.

finding-unknown-product = line { $line }: unknown product { $sku }
finding-inactive-product = line { $line }: product { $sku } is no longer sold
finding-invalid-quantity = line { $line }: quantity { $qty } of { $sku } must be at least 1
finding-invalid-discount = line { $line }: discount { $discount } bp must be between 0 and { $max } bp
finding-price-below-floor = line { $line }: unit price { $price } below floor { $floor } { $source ->
        [customer] for customer { $customer }
        [tier-region] for tier { $tier } in region { $region }
        [tier] for tier { $tier }
        [region] for region { $region }
        [base] from the base price
       *[any] for every customer
    }
finding-price-above-list = line { $line }: unit price { $price } above list price { $list } { $source ->
        [customer] for customer { $customer }
        [tier-region] for tier { $tier } in region { $region }
        [tier] for tier { $tier }
        [region] for region { $region }
        [base] from the base price
       *[any] for every customer
    }
finding-discount-over-limit = line { $line }: discount { $discount } above the limit { $limit } for tier { $tier }, category { $category }{ $promoted ->
        [yes] { " " }(including promotions { $promotions })
       *[no] { "" }
    }
finding-promotion-applied = line { $line }: promotion "{ $name }" allows { $discount }
finding-no-lines = the order has no lines
finding-below-minimum-order = order total { $total } below the minimum order { $minimum }
finding-insufficient-stock = line { $line }: { $wanted } × { $sku } ordered, { $available } available in { $warehouse }
finding-stock-unknown = stock not checked: no inventory covers region { $region }
finding-no-approver = no { $role } can approve orders of region { $region }

## Photo quality: the capture screen's line and the quality reasons of a score report.

quality-ok = ok
quality-retake = { $problems }: retake
quality-retake-if-you-can = ok, but close to { $problems }: retake if you can
quality-list = { $first }, { $rest }
quality-list-and = { $first } and { $rest }
quality-problem-blurry = blurry
quality-problem-too-dark = too dark
quality-problem-overexposed = overexposed
quality-problem-low-contrast = low contrast
quality-problem-too-small = too small
quality-blurry = blurry: sharpness { $sharpness } is below the { $needed } needed (out of focus or shaken); retake
quality-too-dark-clipped = too dark: { $share }% of the picture is black (at most { $allowed }% allowed); use more light
quality-too-dark-mean = too dark: mean brightness { $brightness } of 255 is below { $needed }; use more light
quality-overexposed-clipped = overexposed: { $share }% of the picture is blown out to white (at most { $allowed }% allowed); avoid glare
quality-overexposed-mean = overexposed: mean brightness { $brightness } of 255 is above { $allowed }; avoid glare
quality-low-contrast = low contrast: brightness spread { $spread } is below { $needed } (haze, glare or a dirty lens); lowers the score
quality-too-small = too small: { $width }x{ $height } pixels; the long side needs at least { $needed }
quality-near-blurry = close to blurry: sharpness { $sharpness } is close to the { $needed } needed (band { $low }-{ $high }); counts provisionally, a person should look
quality-near-too-dark-clipped = close to too dark: { $share }% of the picture is black, close to the { $allowed }% allowed (band ±{ $points } points); counts provisionally, a person should look
quality-near-too-dark-mean = close to too dark: mean brightness { $brightness } is close to the { $needed } needed (band ±{ $band }); counts provisionally, a person should look
quality-near-overexposed-clipped = close to overexposed: { $share }% of the picture is blown out, close to the { $allowed }% allowed (band ±{ $points } points); counts provisionally, a person should look
quality-near-overexposed-mean = close to overexposed: mean brightness { $brightness } is close to the { $allowed } allowed (band ±{ $band }); counts provisionally, a person should look
quality-near = close to { $problem }; counts provisionally, a person should look
quality-phone-disagrees = close to { $problems }: the phone measured these same bytes as fine (sharpness { $phone-sharpness }, brightness { $phone-brightness }) and the relay did not (sharpness { $relay-sharpness }, brightness { $relay-brightness }); counts provisionally, a person should look

## Score reasons: the visit, each checklist item, each photo's evidence.
## $done is taken, checked-in or checked-out; $place is same-store or other-store.

reason-preview-local = preview on this phone: reuse checked against this phone's visits only
reason-verdict = verdict: { $verdict }
reason-audit-score = audit score { $score } of 100: { $earned } of { $possible } checklist points
reason-score-capped = score capped at { $cap } of 100 (the checklist earned { $score }: { $earned } of { $possible } points) because the visit itself is rejected: nothing shows it took place at the store
reason-provisional-items = { $count } item(s) earned their points only on photos to review ({ $items }): a person should confirm them
reason-photos-rejected = { $count } photo(s) rejected as evidence of this visit and not counted: a person should look at why
reason-evidence-none = evidence: no photos
reason-evidence = evidence: { $pass } photo(s) trusted, { $review } to review, { $rejected } rejected
reason-list = { $first }; { $rest }

reason-invalid-weight = the checklist gives this item an invalid weight ({ $weight }): counted as 0
reason-not-answered = not answered
reason-not-applicable = not applicable: left out of the score
reason-answered-no = answered no: not compliant
reason-answered-yes = answered yes
reason-yes-trusted = answered yes, backed by { $trusted } trusted { $trusted ->
        [one] photo
       *[other] photos
    }{ $review ->
        [0] { "" }
       *[other] { " " }(and { $review } to review)
    }{ $not-counted ->
        [0] { "" }
        [one] ; { $not-counted } rejected or unusable photo not counted
       *[other] ; { $not-counted } rejected or unusable photos not counted
    }
reason-yes-provisional = answered yes, backed provisionally by { $review } { $review ->
        [one] photo
       *[other] photos
    } to review and none trusted{ $not-counted ->
        [0] { "" }
        [one] ; { $not-counted } rejected or unusable photo not counted
       *[other] ; { $not-counted } rejected or unusable photos not counted
    }: the points stand once a person confirms
reason-yes-no-photo = answered yes, but this item requires a photo and none was taken: 0 points
reason-yes-no-usable-photo = answered yes, but this item requires a usable, trusted photo and none of its { $photos } is: 0 points
reason-photo-to-review = photo { $photo } to review: { $why }
reason-photo-not-counted = photo { $photo }: { $why }
reason-needs-a-look = needs a look
reason-not-usable = not usable

reason-unusable = cannot be used: { $reason }
reason-not-arrived = cannot be used: the photo has not arrived
reason-good-quality = good quality
reason-item-not-on-checklist = taken for item { $item }, which is not on this checklist
reason-photo-accepted = accepted by { $reviewer }: { $reason }
reason-photo-rejected = rejected by { $reviewer }: { $reason }
reason-same-gps-as-the-visit = same GPS position as every other photo of the visit
reason-same-gps = same GPS position as every other photo
reason-identical-gps = all { $count } photos carry exactly the same GPS position ({ $latitude }, { $longitude }): a real phone's position moves a little between photos; check for a fixed or faked location

reason-taken-before-check-in = taken { $before } before check-in (at { $at }); photos count from { $slack } before check-in
reason-taken-after-check-out = taken { $after } after check-out (at { $at }); photos count until { $slack } after check-out
reason-taken-during-visit = taken during the visit
reason-no-check-out = the visit has no check-out, so the end of the visit is unknown
reason-store-without-location = the store has no valid location to compare with
reason-photo-without-gps = no GPS position was recorded with the photo
reason-position-invalid = { $done ->
        [checked-in] the check-in position
        [checked-out] the check-out position
       *[taken] the photo's GPS position
    } is not a valid position
reason-place-at-store = { $done ->
        [checked-in] checked in
        [checked-out] checked out
       *[taken] taken
    } { $distance } from the store (allowed { $allowed })
reason-place-near-store = { $done ->
        [checked-in] checked in
        [checked-out] checked out
       *[taken] taken
    } { $distance } from the store, outside the { $allowed } allowed: check it happened at the store
reason-place-far-from-store = { $done ->
        [checked-in] checked in
        [checked-out] checked out
       *[taken] taken
    } { $distance } from the store, more than { $limit } away: not at the store
reason-gps-too-coarse = GPS accuracy ±{ $accuracy } is too coarse to place { $done ->
        [checked-in] the check-in position
        [checked-out] the check-out position
       *[taken] the photo's GPS position
    } at the store
reason-check-in-and-out-apart = checked in and out { $apart } apart (more than { $limit }): check the visit stayed at the store

reason-exif-no-time = the original photo carries no EXIF capture time (many apps strip it): check it by eye
reason-exif-time-unreadable = the original's EXIF capture time { $time } cannot be read: check it by eye
reason-exif-time-in-zone = { $time } ({ $offset })
reason-exif-time-camera-clock = { $time } (camera clock)
reason-exif-before-check-in = EXIF says taken { $taken }, { $before } before check-in: not a photo of this visit
reason-exif-after-check-out = EXIF says taken { $taken }, { $after } after check-out: not a photo of this visit
reason-exif-during-visit = EXIF says taken { $taken }, during the visit
reason-exif-consistent-with-visit = EXIF says taken { $taken } (camera time zone not recorded), consistent with the visit
reason-exif-gps-uncomparable = the original's EXIF GPS position cannot be compared
reason-exif-gps = EXIF GPS says taken { $distance } from the store, { $verdict ->
        [at] at the store
        [near] near the store: check it was taken there
       *[far] not at the store
    }
reason-reused-file = reused: the same photo file was already submitted { $place ->
        [same-store] in another visit to this store
       *[other-store] at another store
    } (taken { $taken })
reason-reused-copy = reused: a copy of a photo already submitted { $place ->
        [same-store] in another visit to this store
       *[other-store] at another store
    } (taken { $taken }; pictures { $bits } of 64 bits apart, the same picture { $how ->
        [turned] mirrored or turned
       *[resaved] re-saved or resized
    })

## Alerts in a user's inbox (raised by the relay, read on the phone and the dashboard).
## $product is the product's name and SKU, or the SKU; $figures the days' figures.

alert-low-stock-title = Low stock: { $product } at { $warehouse }
alert-low-stock-detail = { $product } at warehouse { $warehouse } ({ $region }): { $available } available ({ $on-hand } on hand, { $reserved } reserved), below the safety level of { $safety }
alert-promotion-not-started-title = Promotion not started: { $promotion } at { $store }
alert-promotion-not-started-detail = promotion { $promotion } ({ $promotion-id }) started { $started } but no visit to { $store } has confirmed it is running
alert-sales-falling-title = Sales falling: { $store }
alert-sales-falling-detail = total sales at { $store } fell { $days } days in a row: { $figures }
alert-product-sales-falling-title = Sales falling: { $product } at { $store }
alert-product-sales-falling-detail = sales of { $product } at { $store } fell { $days } days in a row, in units: { $figures }
alert-approval-reminder-title = Order { $order } waits for your approval
alert-approval-reminder-detail = step { $step } is due { $due } ({ $left } left)
alert-approval-escalated-title = Order { $order } was escalated to you
alert-approval-escalated-detail = { $reason }
