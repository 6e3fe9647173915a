"""The generated Python bindings, against the real library and a real relay.

`scripts/test-bindings` builds the library, generates `fieldsync_ffi.py` next to a copy of it,
starts a relay with the demo tenant and runs these tests with plain `python3 -m unittest`. It
sets FIELDSYNC_RELAY_URL (the relay), FIELDSYNC_TEST_PHOTO (a real shelf photo) and
FIELDSYNC_TEST_PHOTOS (the folder of real photo fixtures).

Each exported kind is covered once: the object and its constructor, records, enums (plain and
with data), errors as exceptions with their fields, the listener called from Rust threads, and
the offline -> sync flow of an order that HQ then sees.
"""

import os
import tempfile
import threading
import time
import unittest

import fieldsync_ffi as fs

TENANT = "demo"
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there


def relay_url():
    url = os.environ.get("FIELDSYNC_RELAY_URL")
    if not url:
        raise RuntimeError("FIELDSYNC_RELAY_URL is not set: run scripts/test-bindings")
    return url


def now_ms():
    return int(time.time() * 1000)


def signed_in_phone(directory, username):
    """A fresh phone in `directory`, signed in as a demo user and synced once."""
    phone = fs.FieldSyncPhone.open(os.path.join(directory, f"{username}.db"))
    session = phone.login(relay_url(), TENANT, username, f"demo-{username}", f"{username} (python test)")
    phone.sync_now()
    return phone, session


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class Recorder(fs.FieldSyncListener):
    """A listener that records every callback and the thread it came on."""

    def __init__(self):
        self.lock = threading.Lock()
        self.changes = []
        self.progress = []
        self.outcomes = []
        self.rejected = []

    def _record(self, into, value):
        with self.lock:
            into.append((value, threading.get_ident()))

    def on_sync_progress(self, progress):
        self._record(self.progress, progress)

    def on_sync_finished(self, outcome):
        self._record(self.outcomes, outcome)

    def on_document_rejected(self, document):
        self._record(self.rejected, document)

    def on_document_changed(self, change):
        self._record(self.changes, change)

    def snapshot(self, what):
        with self.lock:
            return list(getattr(self, what))


class OfflinePhoneTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.phone = fs.FieldSyncPhone.open(os.path.join(self.dir.name, "phone.db"))

    def tearDown(self):
        self.dir.cleanup()

    def test_a_new_phone_works_offline_with_nobody_signed_in(self):
        self.assertIsNone(self.phone.user())
        status = self.phone.sync_status()
        self.assertIsInstance(status, fs.SyncStatus)
        self.assertFalse(status.connected)
        self.assertEqual((status.pending_changes, status.pending_photos, status.quarantined), (0, 0, 0))
        self.assertEqual(self.phone.list_orders(fs.OrderFilter(status=fs.OrderStatus.DRAFT)), [])
        self.assertEqual(self.phone.inbox(), [])

    def test_errors_arrive_as_exceptions_carrying_their_fields(self):
        with self.assertRaises(fs.FieldSyncError.InvalidInput) as bad_id:
            self.phone.order("not-an-id")
        self.assertEqual(bad_id.exception.field, "id")
        self.assertIn("not-an-id", bad_id.exception.reason)
        self.assertIsInstance(bad_id.exception, fs.FieldSyncError)

        with self.assertRaises(fs.FieldSyncError.NotFound) as no_catalog:
            self.phone.search_products("", 5)
        self.assertEqual(no_catalog.exception.kind, "catalog")

        with self.assertRaises(fs.FieldSyncError.NotSignedIn):
            self.phone.sync_now()
        with self.assertRaises(fs.FieldSyncError.NotSignedIn):
            self.phone.create_order("2NEpo7TZRRrLZSi2U", [], "")

    def test_opening_a_file_that_is_not_a_database_is_a_storage_error(self):
        path = os.path.join(self.dir.name, "junk.db")
        with open(path, "wb") as f:
            f.write(b"this is not a database" * 100)
        with self.assertRaises(fs.FieldSyncError.Storage) as error:
            fs.FieldSyncPhone.open(path)
        self.assertIn("junk.db", error.exception.reason)


class EncryptedPhoneTest(unittest.TestCase):
    """open(path, key), rekey, a wrong key, and pinning, through the generated API."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "phone.db")

    def tearDown(self):
        self.dir.cleanup()

    def test_a_phone_opened_with_a_key_is_encrypted_and_a_wrong_key_is_refused(self):
        key = os.urandom(32)
        phone = fs.FieldSyncPhone.open(self.path, key)
        self.assertTrue(phone.is_encrypted())
        del phone
        with open(self.path, "rb") as f:
            self.assertNotEqual(f.read(16), b"SQLite format 3\x00")
        with self.assertRaises(fs.FieldSyncError.WrongKey) as wrong:
            fs.FieldSyncPhone.open(self.path, os.urandom(32))
        self.assertIn("phone.db", wrong.exception.reason)
        with self.assertRaises(fs.FieldSyncError.Storage):
            fs.FieldSyncPhone.open(self.path)
        self.assertTrue(fs.FieldSyncPhone.open(self.path, key).is_encrypted())

    def test_a_plain_phone_opened_with_a_key_becomes_encrypted_and_rekey_rotates_the_key(self):
        self.assertFalse(fs.FieldSyncPhone.open(self.path).is_encrypted())
        old, new = os.urandom(32), os.urandom(32)
        phone = fs.FieldSyncPhone.open(self.path, old)
        self.assertTrue(phone.is_encrypted())
        phone.rekey(new)
        del phone
        with self.assertRaises(fs.FieldSyncError.WrongKey):
            fs.FieldSyncPhone.open(self.path, old)
        fs.FieldSyncPhone.open(self.path, new)

    def test_a_key_of_the_wrong_length_and_a_rekey_of_a_plain_phone_are_refused(self):
        with self.assertRaises(fs.FieldSyncError.InvalidInput) as short:
            fs.FieldSyncPhone.open(self.path, b"hunter2")
        self.assertEqual(short.exception.field, "key")
        with self.assertRaises(fs.FieldSyncError.InvalidState):
            fs.FieldSyncPhone.open(self.path).rekey(os.urandom(32))

    def test_pinning_text_without_a_certificate_is_refused(self):
        phone = fs.FieldSyncPhone.open(self.path)
        with self.assertRaises(fs.FieldSyncError.InvalidInput) as bad:
            phone.pin_relay_certificates("not a certificate")
        self.assertEqual(bad.exception.field, "certificate")
        self.assertIsNone(phone.sync_status().wiped)

    def test_pinning_a_public_key_that_is_not_a_sha256_is_refused(self):
        phone = fs.FieldSyncPhone.open(self.path)
        with self.assertRaises(fs.FieldSyncError.InvalidInput) as bad:
            phone.pin_relay_public_keys(["ab" * 31])
        self.assertEqual(bad.exception.field, "public_key")
        self.assertIn("31 bytes", bad.exception.reason)
        phone.pin_relay_public_keys(["ab" * 32])


class RepTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.rep, cls.session = signed_in_phone(cls.dir.name, "rep-01")
        cls.store = cls.rep.stores()[0]
        cls.products = [p for p in cls.rep.search_products("", 50) if p.active]

    @classmethod
    def tearDownClass(cls):
        cls.rep.stop_background_sync()
        cls.dir.cleanup()

    def line(self, product, qty, discount_bp=0):
        return fs.LineInput(sku=product.sku, qty=qty, unit_price_cents=product.base_price_cents, discount_bp=discount_bp)

    def test_login_returns_the_session_and_remembers_the_user(self):
        self.assertEqual(self.session.role, fs.Role.REP)
        self.assertTrue(self.session.token)
        self.assertGreater(self.session.expires_at, now_ms())
        user = self.rep.user()
        self.assertEqual((user.tenant, user.user_id, user.role), (TENANT, self.session.user_id, fs.Role.REP))
        self.assertTrue(self.rep.sync_status().connected)

    def test_a_wrong_password_is_unauthenticated(self):
        phone = fs.FieldSyncPhone.open(os.path.join(self.dir.name, "wrong.db"))
        with self.assertRaises(fs.FieldSyncError.Unauthenticated):
            phone.login(relay_url(), TENANT, "rep-02", "not-the-password", "python test")
        self.assertIsNone(phone.user())

    def test_catalog_search_finds_by_name_and_the_price_preview_applies_the_discount(self):
        product = self.products[0]
        found = self.rep.search_products(product.name.upper(), 10)
        self.assertIn(product.sku, [p.sku for p in found])
        self.assertEqual(self.rep.product(product.sku), product)

        preview = self.rep.price_preview(product.sku, 3, 1250)
        gross = 3 * product.base_price_cents
        self.assertEqual(preview.gross_cents, gross)
        self.assertEqual(preview.total_cents, (gross * 8750 + 5000) // 10000)
        self.assertEqual(preview.discount_cents, gross - preview.total_cents)
        with self.assertRaises(fs.FieldSyncError.InvalidInput) as error:
            self.rep.price_preview(product.sku, 0, 0)
        self.assertEqual(error.exception.field, "qty")

    def test_stock_lookup_tells_when_the_figures_were_true(self):
        levels = [level for p in self.products[:20] for level in self.rep.stock(p.sku)]
        self.assertTrue(levels, "no stock for the first products of the catalog")
        for level in levels:
            self.assertGreater(level.as_of, 0)
            self.assertEqual(level.available, level.on_hand - level.reserved)
        self.assertEqual(self.rep.stock("NO-SUCH-SKU"), [])

    def test_an_order_taken_offline_reaches_hq_after_sync(self):
        rep = self.rep
        a, b, c = self.products[:3]
        rep.resume_session(UNREACHABLE, self.session.token)  # no signal in the shop
        try:
            order_id = rep.create_order(self.store.id, [self.line(a, 2, 500)], "")
            second = rep.add_line(order_id, self.line(b, 1))
            rep.update_line(order_id, second, self.line(b, 4))
            third = rep.add_line(order_id, self.line(c, 1))
            rep.remove_line(order_id, third)
            rep.set_notes(order_id, "taken offline")
            rep.submit_order(order_id)

            order = rep.order(order_id)
            self.assertEqual(order.status, fs.OrderStatus.SUBMITTED)
            self.assertEqual(order.review_state, fs.ReviewState.PENDING_REVIEW)
            self.assertIsNone(order.review)
            self.assertEqual([(l.sku, l.qty) for l in order.lines], [(a.sku, 2), (b.sku, 4)])
            expected = rep.price_preview(a.sku, 2, 500).total_cents + rep.price_preview(b.sku, 4, 0).total_cents
            self.assertEqual(order.total_cents, expected)
            with self.assertRaises(fs.FieldSyncError.InvalidState):
                rep.set_notes(order_id, "too late")

            with self.assertRaises(fs.FieldSyncError.Offline):
                rep.sync_now()
            status = rep.sync_status()
            self.assertGreaterEqual(status.pending_changes, 1)
            self.assertIsNotNone(status.last_error)
        finally:
            rep.resume_session(relay_url(), self.session.token)  # signal is back

        report = rep.sync_now()
        self.assertGreaterEqual(report.accepted, 1)
        self.assertEqual(rep.sync_status().pending_changes, 0)

        hq, _ = signed_in_phone(self.dir.name, "hq-admin")
        submitted = hq.list_orders(fs.OrderFilter(status=fs.OrderStatus.SUBMITTED))
        self.assertIn(order_id, [o.id for o in submitted])
        at_hq = hq.order(order_id)
        self.assertEqual((at_hq.notes, at_hq.total_cents, at_hq.owner), ("taken offline", expected, self.session.user_id))
        self.assertNotEqual(at_hq.review_state, fs.ReviewState.NOT_SUBMITTED)
        with self.assertRaises(fs.FieldSyncError.NotAllowed):
            hq.reopen_order(order_id)

    def test_the_listener_hears_changes_and_syncs_on_rust_threads(self):
        rep, recorder, main = self.rep, Recorder(), threading.get_ident()
        rep.set_listener(recorder)
        try:
            order_id = rep.create_order(self.store.id, [self.line(self.products[0], 1)], "listener")
            self.assertTrue(wait_for(lambda: any(c.document_id == order_id for c, _ in recorder.snapshot("changes"))))
            change, thread = next((c, t) for c, t in recorder.snapshot("changes") if c.document_id == order_id)
            self.assertEqual((change.kind, change.origin), (fs.DocumentKind.ORDER, fs.ChangeOrigin.LOCAL))
            self.assertNotEqual(thread, main, "document changes come from FieldSync's feed thread")

            rep.sync_now()
            self.assertTrue(recorder.snapshot("progress"))
            outcome, _ = recorder.snapshot("outcomes")[-1]
            self.assertTrue(outcome.is_COMPLETED(), str(outcome))

            # Background sync: a local edit is pushed by core's sync thread, which reports it.
            before = len(recorder.snapshot("outcomes"))
            rep.start_background_sync(60)
            self.assertTrue(rep.sync_status().background)
            # Its first round runs at once; the edit after it starts a round of its own.
            self.assertTrue(wait_for(lambda: len(recorder.snapshot("outcomes")) > before))
            first = len(recorder.snapshot("outcomes"))
            rep.set_notes(order_id, "edited while the background sync runs")
            self.assertTrue(wait_for(lambda: rep.sync_status().pending_changes == 0
                                     and len(recorder.snapshot("outcomes")) > first))
            background = [t for _, t in recorder.snapshot("outcomes")[before:]]
            self.assertTrue(all(t != main for t in background))
        finally:
            rep.stop_background_sync()
            rep.clear_listener()
        self.assertFalse(rep.sync_status().background)

    def test_a_listener_that_raises_does_not_stop_syncing(self):
        # uniffi reports the exception as a panic message on stderr; the sync goes on.
        class Broken(Recorder):
            def on_sync_progress(self, progress):
                raise RuntimeError("a bug in the app's listener")

        rep = self.rep
        rep.set_listener(Broken())
        try:
            rep.create_order(self.store.id, [self.line(self.products[0], 1)], "broken listener")
            report = rep.sync_now()
            self.assertGreaterEqual(report.accepted, 1)
            self.assertEqual(rep.sync_status().pending_changes, 0)
        finally:
            rep.clear_listener()

    def test_inbox_and_approvals_are_lists_of_records(self):
        for alert in self.rep.inbox():
            self.assertIn(alert.state, (fs.AlertState.OPEN, fs.AlertState.CLOSED))
        # A rep approves nothing; a manager's pending steps all name the manager.
        self.assertEqual(self.rep.pending_approvals(), [])
        self.assertEqual(self.rep.my_pending_approvals(), [])
        manager, session = signed_in_phone(self.dir.name, "manager-north")
        for pending in manager.pending_approvals():
            self.assertEqual(pending.step.approver, session.user_id)
            self.assertEqual(pending.step.state, fs.StepState.PENDING)
        # "Waiting on me": the same steps, the earliest deadline first, no deadline last.
        mine = manager.my_pending_approvals()
        self.assertEqual(sorted(p.order_id for p in mine), sorted(p.order_id for p in manager.pending_approvals()))
        deadlines = [p.due_at for p in mine]
        with_deadline = [d for d in deadlines if d is not None]
        self.assertEqual(with_deadline, sorted(with_deadline))
        self.assertEqual(deadlines[:len(with_deadline)], with_deadline)

    def test_a_finding_reads_in_chinese_once_the_app_says_zh_cn(self):
        phone, _ = signed_in_phone(self.dir.name, "rep-03")
        self.assertEqual(phone.language(), "en")
        with self.assertRaises(fs.FieldSyncError.InvalidInput) as unknown:
            phone.set_language("fr-FR")
        self.assertEqual(unknown.exception.field, "language")
        self.assertEqual(phone.language(), "en")

        product = self.products[0]
        cheap = fs.LineInput(sku=product.sku, qty=1, unit_price_cents=1, discount_bp=0)  # far below the floor
        order_id = phone.create_order(phone.stores()[0].id, [cheap], "")
        phone.submit_order(order_id)

        def reviewed():
            phone.sync_now()
            return phone.order(order_id).review is not None

        self.assertTrue(wait_for(reviewed), "the relay's review did not arrive")
        floor = next(f for f in phone.order(order_id).review.findings if f.code == "price-below-floor")
        self.assertTrue(floor.text.startswith("line 1: unit price 0.01 below floor "), floor.text)

        phone.set_language("zh-CN")
        self.assertEqual(phone.language(), "zh-CN")
        floor = next(f for f in phone.order(order_id).review.findings if f.code == "price-below-floor")
        self.assertTrue(floor.text.startswith("第 1 行：单价 0.01 低于"), floor.text)
        self.assertIn("底价", floor.text)

    def test_deciding_needs_an_approver_and_the_orders_review(self):
        order_id = self.rep.create_order(self.store.id, [self.line(self.products[0], 1)], "")
        with self.assertRaises(fs.FieldSyncError.InvalidInput) as not_an_approver:
            self.rep.decide(order_id, 0, fs.Verdict.APPROVE, "")
        self.assertEqual(not_an_approver.exception.field, "role")
        manager, _ = signed_in_phone(self.dir.name, "manager-north")
        with self.assertRaises(fs.FieldSyncError.NotFound) as no_review:
            manager.decide(order_id, 0, fs.Verdict.REJECT, "price too low")
        self.assertEqual(no_review.exception.kind, "order-review")

    def test_logout_revokes_the_session_and_keeps_the_work(self):
        phone, session = signed_in_phone(self.dir.name, "rep-02")
        self.assertTrue(phone.logout())
        with self.assertRaises(fs.FieldSyncError.NotSignedIn):
            phone.sync_now()
        self.assertEqual(phone.user().user_id, session.user_id)
        self.assertFalse(phone.sync_status().connected)


class SupervisorTest(unittest.TestCase):
    def test_an_inspection_with_a_photo_preview_is_checked_out_and_synced(self):
        with tempfile.TemporaryDirectory() as directory:
            phone, session = signed_in_phone(directory, "supervisor-north")
            template = phone.templates()[0]
            store = phone.stores()[0]
            here = fs.GeoFix(latitude=store.latitude, longitude=store.longitude, accuracy_m=8.0)
            start = now_ms()
            inspection_id = phone.check_in(store.id, template.id, start, here)
            for item in template.items:
                phone.answer(inspection_id, item.item_id, fs.AnswerValue.YES, 3, "")
            item = next((i for i in template.items if i.requires_photo), template.items[0])
            with open(os.environ["FIELDSYNC_TEST_PHOTO"], "rb") as f:
                preview = phone.add_photo(inspection_id, item.item_id, f.read(), start + 1000, here)
            self.assertEqual(len(preview.photo.sha256), 64)
            self.assertEqual(preview.acceptable, not preview.problems)
            self.assertTrue(preview.summary)
            self.assertGreater(preview.sharpness, 0)
            self.assertEqual(phone.photo_thumbnail(preview.photo.sha256)[:2], b"\xff\xd8")
            with self.assertRaises(fs.FieldSyncError.PhotoRejected):
                phone.add_photo(inspection_id, item.item_id, b"not a photo", start + 2000, None)
            phone.check_out(inspection_id, start + 60_000, here)

            inspection = phone.inspection(inspection_id)
            self.assertEqual(inspection.status, fs.InspectionStatus.CHECKED_OUT)
            self.assertEqual(inspection.owner, session.user_id)
            self.assertEqual(len(inspection.answers), len(template.items))
            self.assertEqual([p.sha256 for p in inspection.photos], [preview.photo.sha256])
            self.assertEqual(inspection.check_out.at, start + 60_000)
            listed = phone.list_inspections(fs.InspectionFilter(status=fs.InspectionStatus.CHECKED_OUT))
            self.assertIn(inspection_id, [i.id for i in listed])
            score = phone.inspection_score(inspection_id)
            self.assertTrue(score is None or isinstance(score, fs.ScoreReport))

            report = phone.sync_now()
            self.assertEqual(report.photos_uploaded, 1)
            status = phone.sync_status()
            self.assertEqual((status.pending_changes, status.pending_photos), (0, 0))

    def test_the_score_preview_counts_evidence_and_a_photo_can_be_removed_until_check_out(self):
        with tempfile.TemporaryDirectory() as directory:
            phone, _ = signed_in_phone(directory, "supervisor-north")
            template = phone.templates()[0]
            store = phone.stores()[0]
            here = fs.GeoFix(latitude=store.latitude, longitude=store.longitude, accuracy_m=8.0)
            start = now_ms()
            inspection_id = phone.check_in(store.id, template.id, start, here)
            for item in template.items:
                phone.answer(inspection_id, item.item_id, fs.AnswerValue.YES, None, "")
            item = next(i for i in template.items if i.requires_photo)
            # Not FIELDSYNC_TEST_PHOTO: another test's visit syncs it to this phone, and the
            # preview would rightly reject it as reused.
            with open(os.path.join(os.environ["FIELDSYNC_TEST_PHOTOS"], "chelsea.jpg"), "rb") as f:
                photo = f.read()
            preview = phone.add_photo(inspection_id, item.item_id, photo, start + 1000, here)
            # The same bytes again: the photo already there, at once.
            again = phone.add_photo(inspection_id, item.item_id, photo, start + 1000, here)
            self.assertEqual(again.photo, preview.photo)
            self.assertIsInstance(preview.borderline, list)

            score = phone.preview_score(inspection_id)
            self.assertIsInstance(score, fs.ScoreReport)
            self.assertEqual(score.inspection_id, inspection_id)
            # Open visit, photo without EXIF: it counts only provisionally, so the verdict is review.
            self.assertEqual(score.verdict, fs.Trust.REVIEW)
            self.assertEqual(score.reasons[0], "verdict: review")
            self.assertEqual(score.reason_codes[0], "reason-verdict")
            backed = next(i for i in score.items if i.item_id == item.item_id)
            self.assertEqual(backed.earned, item.weight)
            self.assertIn("backed provisionally by 1 photo to review", backed.reasons[0])
            self.assertEqual([p.sha256 for p in score.photos], [preview.photo.sha256])

            with self.assertRaises(fs.FieldSyncError.InvalidInput) as wrong:
                other = next(i for i in template.items if i.item_id != item.item_id)
                phone.remove_photo(inspection_id, other.item_id, preview.photo.sha256)
            self.assertEqual(wrong.exception.field, "item_id")
            self.assertEqual(len(phone.inspection(inspection_id).photos), 1)
            phone.remove_photo(inspection_id, item.item_id, preview.photo.sha256)
            self.assertEqual(phone.inspection(inspection_id).photos, [])
            self.assertEqual(phone.sync_status().pending_photos, 0)
            unbacked = next(i for i in phone.preview_score(inspection_id).items if i.item_id == item.item_id)
            self.assertEqual(unbacked.earned, 0)
            self.assertIn("none was taken", unbacked.reasons[0])
            phone.set_language("zh-Hans-CN")
            unbacked = next(i for i in phone.preview_score(inspection_id).items if i.item_id == item.item_id)
            self.assertEqual(unbacked.reasons[0], "回答“是”，但该项要求拍照而未拍：0 分")
            self.assertEqual(unbacked.reason_codes[0], "reason-yes-no-photo")
            phone.set_language("en")

            phone.add_photo(inspection_id, item.item_id, photo, start + 2000, here)
            phone.check_out(inspection_id, start + 60_000, here)
            with self.assertRaises(fs.FieldSyncError.InvalidState):
                phone.remove_photo(inspection_id, item.item_id, preview.photo.sha256)
            self.assertEqual(len(phone.inspection(inspection_id).photos), 1)


if __name__ == "__main__":
    unittest.main()
