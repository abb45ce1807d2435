"""👍/👎 marks → training triplets (the rules in shopsearch.data.feedback)."""

from __future__ import annotations

from shopsearch.data.csvio import read_table, to_safe_csv
from shopsearch.data.feedback import FeedbackLog
from shopsearch.data.triplets import check_frame

SHOWN = ["机械师 K7 机械键盘", "机械师 K8 机械键盘", "网速 AX55 无线路由器"]


def test_a_like_pairs_with_the_best_ranked_hit_the_user_skipped():
    log = FeedbackLog()
    assert log.like("K7", SHOWN[1], SHOWN) == 1
    assert log.triplets == [("K7", SHOWN[1], SHOWN[0])]


def test_dislikes_become_the_negatives_of_likes_in_either_order():
    log = FeedbackLog()
    assert log.dislike("K7", SHOWN[1]) == 0, "a dislike waits for a like"
    assert log.like("K7", SHOWN[0], SHOWN) == 1
    assert log.dislike("K7", SHOWN[2]) == 1
    assert log.triplets == [("K7", SHOWN[0], SHOWN[1]), ("K7", SHOWN[0], SHOWN[2])]


def test_marks_for_one_query_never_pair_with_another_query():
    log = FeedbackLog()
    log.dislike("路由器", SHOWN[1])
    log.like("K7", SHOWN[0], SHOWN)
    assert log.triplets == [("K7", SHOWN[0], SHOWN[1])]  # the skipped hit, not the other query's dislike
    assert all(anchor == "K7" for anchor, _, _ in log.triplets)


def test_repeated_marks_add_nothing_and_the_latest_mark_wins():
    log = FeedbackLog()
    log.like("K7", SHOWN[0], SHOWN)
    assert log.like("K7", SHOWN[0], SHOWN) == 0
    log.dislike("K7", SHOWN[0])  # changed their mind
    assert log.triplets == [] and log.liked["K7"] == []
    assert log.like("K7", SHOWN[0], SHOWN) == 1


def test_a_product_is_never_its_own_negative():
    log = FeedbackLog()
    log.like("K7", SHOWN[0], [SHOWN[0]])  # the only hit shown
    assert log.triplets == []


def test_the_download_is_a_valid_training_file(tmp_path):
    log = FeedbackLog()
    log.like("=cmd|'/c calc'!A1", SHOWN[0], SHOWN)
    log.like("K8", SHOWN[1], SHOWN)
    path = tmp_path / "feedback.csv"
    to_safe_csv(log.to_frame(), path)
    triplets, report = check_frame(read_table(path, max_mb=5).frame)
    assert len(triplets) == 2 and report.rows_kept == 2
    assert not triplets.anchors[0].startswith("="), "formula cells are neutralised in downloads"
    assert log.to_triplets().positives == [SHOWN[0], SHOWN[1]]


def test_the_page_text_needs_no_emoji_font():
    """Without an emoji font (many Linux desktops, some phones) 👍/👎 drew as empty boxes in the feedback rules and notes,
    naming buttons that read "相关 Relevant (+)" and "不相关 Not relevant (−)". Every text the page shows uses no emoji."""
    from shopsearch.ui import text

    shown = [value for value in vars(text).values() if isinstance(value, str)]
    shown += [text.liked_note("#1 K7", ["#2 K8"], [], 1), text.liked_note("#1 K7", [], ["#2 K8"], 1), text.liked_note("#1 K7", [], [], 1)]
    shown += [text.disliked_note("#3 K9", ["#1 K7"], 1), text.disliked_note("#3 K9", [], 0)]
    emoji = {c for value in shown for c in value if ord(c) >= 0x1F000}
    assert not emoji, emoji
    assert "(+)" in text.FEEDBACK_RULES and "(−)" in text.FEEDBACK_RULES
