"""Anonymous rejected answers (anyone can post to the notification route) are counted on one audit
row per address and window, written a bounded number of times, instead of one row each."""

import json
from datetime import timedelta

import pytest

from lib.services import payments
from tests.conftest import DEMO_NOW

FORGED = "vads_amount=8350&signature=x&vads_ctx_mode=TEST&vads_auth_result=00&vads_trans_date=1&vads_trans_id=a"


def reject(db, now, address, tally=None):
    with pytest.raises(payments.AnswerRejected):
        if tally is None:
            payments.record_answer(db, FORGED, "notification", now, address=address)
        else:  # a tally of its own (a smaller limit), fed as record_answer feeds the process's one
            tally.count(db, now, address, "notification", "signature invalide")
            raise payments.AnswerRejected(400, "signature invalide")


def tallies(db):
    rows = db.rows("SELECT entity_id, after FROM audit_log WHERE action = 'payment.rejected' ORDER BY id")
    return [(entity_id, json.loads(after).get("count")) for entity_id, after in rows]


def test_a_flood_from_one_address_is_one_counted_row_per_window(town):
    writes = []
    real_write = town.db.write
    town.db.write = lambda work, **kw: (writes.append(1), real_write(work, **kw))[1]
    for n in range(400):  # 400 forged answers in 5 minutes
        reject(town.db, DEMO_NOW + timedelta(seconds=n * 0.75), "198.51.100.66")
    assert [entity for entity, _ in tallies(town.db)] == ["198.51.100.66"]
    assert tallies(town.db)[0][1] == 321  # brought up to date once a minute (the 4th: 4 min 0 s)
    assert len(writes) == 1 + 4  # one row opened, four updates: not 400 writes
    # The next window opens a new row and writes the last count of the previous one.
    reject(town.db, DEMO_NOW + timedelta(minutes=11), "198.51.100.66")
    assert tallies(town.db) == [("198.51.100.66", 400), ("198.51.100.66", 1)]


def test_each_address_has_its_row_and_too_many_addresses_share_one(town, monkeypatch):
    tally = payments.RejectionTally()
    monkeypatch.setattr(payments.RejectionTally, "MAX_ADDRESSES", 3)
    for n in range(5):
        reject(town.db, DEMO_NOW, f"203.0.113.{n}", tally)
    reject(town.db, DEMO_NOW + timedelta(minutes=2), "203.0.113.4", tally)
    assert tallies(town.db) == [("203.0.113.0", 1), ("203.0.113.1", 1), ("203.0.113.2", 1), ("autres adresses", 3)]
