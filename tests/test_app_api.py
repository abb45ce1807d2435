"""The launched app through gradio_client: each API, bad input, and one session's model never touching another's."""

from __future__ import annotations

import re
import shutil

import pytest
from gradio_client import Client, handle_file

from shopsearch.common.config import ROOT

pytestmark = pytest.mark.slow


def names(table: dict) -> list[str]:
    column = table["headers"].index("name")
    return [row[column] for row in table["data"]]


def test_search_api_returns_the_k7_keyboard_first(app_url):
    client = Client(app_url, verbose=False)
    table = client.predict(query="寻找一款K7", top_k=5, api_name="/search")
    assert {"name", "score"} <= set(table["headers"])
    assert names(table)[0] == "机械师 K7 机械键盘"
    scores = [row[table["headers"].index("score")] for row in table["data"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 5


@pytest.mark.parametrize("query", ["", "   ", "\x00\x07", "x" * 10_000])
def test_bad_queries_get_a_bilingual_message_and_the_session_keeps_working(app_url, query):
    client = Client(app_url, verbose=False)
    with pytest.raises(Exception) as err:
        client.predict(query=query, api_name="/search")
    assert "·" in str(err.value) and "Traceback" not in str(err.value)
    assert names(client.predict(query="寻找一款网速", top_k=3, api_name="/search"))[0].startswith("网速")


def test_html_in_a_query_is_treated_as_text(app_url):
    client = Client(app_url, verbose=False)
    table = client.predict(query="<script>alert(1)</script> 键盘", top_k=3, api_name="/search")
    assert len(table["data"]) == 3


def test_a_top_k_typed_past_the_slider_end_searches_for_the_end(app_url):
    """gradio's slider refused 500 on a 1–50 slider with an English-only error; the nearest end is what was meant."""
    client = Client(app_url, verbose=False)
    assert len(client.predict(query="键盘", top_k=500, api_name="/search")["data"]) == 50
    assert len(client.predict(query="键盘", top_k=0, api_name="/search")["data"]) == 1
    assert len(client.predict(query="键盘", top_k=None, api_name="/search")["data"]) == 10  # an emptied box: the default


def test_similarity_api_gives_an_n_by_n_matrix(app_url):
    client = Client(app_url, verbose=False)
    plot, matrix, csv_path = client.predict(sentences="寻找一款K7\n机械师 K7 机械键盘\n峰景 双人登山帐篷", api_name="/similarity")
    assert len(matrix["data"]) == 3 and matrix["headers"][0] == "sentence"
    row = matrix["data"][0]
    assert row[1] == pytest.approx(1.0, abs=1e-3)  # a sentence is identical to itself
    with pytest.raises(Exception, match="50"):
        client.predict(sentences="\n".join(f"句子 {i}" for i in range(51)), api_name="/similarity")


def test_finetune_changes_only_this_sessions_model(app_url, tmp_path):
    """Client A fine-tunes and switches its run on; A's searches change, B's stay exactly the same."""
    rows = ["anchor,positive,negative"] + [
        f"寻找一款K{i}款,机械师 K{i} 机械键盘 测试商品{i},峰景 双人登山帐篷 1.8公斤轻量化设计的两人登山帐篷。" for i in range(30)
    ]
    upload = tmp_path / "triplets.csv"
    upload.write_text("\n".join(rows), encoding="utf-8")
    a, b = Client(app_url, verbose=False), Client(app_url, verbose=False)
    before_b = b.predict(query="跑步时戴不会掉的耳机", top_k=10, mode="semantic", api_name="/search")
    job = a.submit(handle_file(str(upload)), 1, 8, 5e-5, "TripletLoss", "shipped", False, "seed", api_name="/finetune")
    updates = list(job)
    assert len(updates) >= 3, "progress must stream"
    status = updates[-1][0]
    assert "Done" in status, status
    run_id = updates[-1][7]
    run_id = run_id["value"] if isinstance(run_id, dict) else run_id
    assert isinstance(run_id, str) and len(run_id) >= 16
    a.predict(run_id, api_name="/activate")  # kept (worse than the session's model), switched on by hand
    after_b = b.predict(query="跑步时戴不会掉的耳机", top_k=10, mode="semantic", api_name="/search")
    assert after_b["data"] == before_b["data"]
    after_a = a.predict(query="跑步时戴不会掉的耳机", top_k=10, mode="semantic", api_name="/search")
    assert after_a["data"] != before_b["data"], "A's searches must use A's new model"
    with pytest.raises(Exception, match="does not exist"):
        b.predict(run_id, api_name="/activate")  # B knows A's run id and still cannot use it
    assert b.predict(query="跑步时戴不会掉的耳机", top_k=10, mode="semantic", api_name="/search")["data"] == before_b["data"]
    a.predict("chinese", api_name="/activate")  # A can switch back to the shared default model…
    assert a.predict(query="跑步时戴不会掉的耳机", top_k=10, mode="semantic", api_name="/search")["data"] == before_b["data"]
    a.predict(run_id, api_name="/activate")  # …and to its own run again
    assert a.predict(query="跑步时戴不会掉的耳机", top_k=10, mode="semantic", api_name="/search")["data"] == after_a["data"]


def test_a_run_worse_than_the_sessions_model_is_measured_against_it_and_not_switched_on(app_url):
    """The seed's triplets, the Chinese-aware recipe (10 steps) from the base model: the run beats the model it started
    from by far, but not the Chinese-aware model the session searches with, so the session keeps that one."""
    client = Client(app_url, verbose=False)
    upload = ROOT / "data" / "triplets.csv"
    job = client.submit(handle_file(str(upload)), 2, 16, 5e-5, "TripletLoss", "base", False, "chinese", 10, api_name="/finetune")
    updates = list(job)
    status, metrics, active = updates[-1][0], updates[-1][2], updates[-1][6]
    assert "Done" in status and "Not switched on" in status, status
    rows = {row[0]: row for row in metrics["data"]}
    before, start, after = (metrics["headers"].index(h) for h in ("before", "start", "after"))
    for key in ("recall@1", "mrr@10"):
        assert rows[key][after] > rows[key][start] + 0.2, rows[key]
    assert rows["mrr@10"][after] < rows["mrr@10"][before]
    assert f"{rows['mrr@10'][before]:.3f}" in status, "the line names the session model's figure"
    assert "Chinese-aware" in active and "run" not in active
    assert "Measured on the built-in eval set" in status


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["chinese", "seed"])
@pytest.mark.parametrize("rows", [1, 3])
def test_one_and_three_row_uploads_train_with_either_recipe(app_url, tmp_path, recipe, rows):
    """The smallest uploads a visitor sends (3 = the app's own template) train to the end with either recipe."""
    upload = tmp_path / "t.csv"
    if rows == 3:
        shutil.copy(ROOT / "assets" / "triplets_example.csv", upload)
    else:
        upload.write_text("anchor,positive,negative\n寻找一款K7,机械师 K7 机械键盘,峰景 双人登山帐篷\n", encoding="utf-8")
    client = Client(app_url, verbose=False)
    job = client.submit(handle_file(str(upload)), 1, 16, 5e-5, "TripletLoss", "active", False, recipe, 3, api_name="/finetune")
    final = list(job)[-1]
    assert "Done" in final[0] and ("Switched on" in final[0] or "Not switched on" in final[0]), final[0]
    trained = {1: "Training on 1 triplet (0 held out)", 3: "Training on 2 triplets (1 held out)"}[rows]
    assert trained in " ".join(str(u[0]) for u in job.outputs())


@pytest.mark.slow
def test_a_catalog_of_titles_alone_is_searched_and_adapted_to_without_triplets_and_measured_on_its_titles(app_url, tmp_path):
    """A shop's export as it often is: one column of titles, no ids, no triplets. It loads (rows numbered), search finds
    a title by its words, and a Chinese-aware run with no upload trains on the catalog and is measured on keyword queries
    cut from the titles, with a decision that gives both figures."""
    kinds = ("加厚羊毛围巾", "真丝睡衣套装", "棉麻衬衫宽松", "牛仔外套复古", "户外速干长裤")
    titles = [f"{kind}{who}款 {i * 6 + j}号" for i, kind in enumerate(kinds) for j, who in enumerate(("女", "男", "儿童", "秋冬", "夏季", "通用"))]
    shop = tmp_path / "titles.csv"
    shop.write_text("标题\n" + "".join(f"{t}\n" for t in titles), encoding="utf-8")
    client = Client(app_url, verbose=False)
    _, status = client.predict(handle_file(str(shop)), api_name="/load_catalog")
    assert f"Loaded {len(titles)} products" in status, status
    assert names(client.predict(query="速干长裤 夏季", top_k=1, api_name="/search"))[0].startswith("户外速干长裤夏季款")
    job = client.submit(triplet_file=None, recipe="chinese", steps=10, api_name="/finetune")
    final = list(job)[-1][0]
    assert "Done: 10 steps" in final and "keyword queries cut from the titles of products left out of training" in final, final
    assert re.search(r"(Switched on|Not switched on): mrr@10 [0-9.]+ [≥<] [0-9.]+", final), final


def test_a_100_mb_upload_gets_the_bilingual_size_message_and_leaves_no_run(app_url, tmp_path):
    import app

    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.write(b"anchor,positive,negative\n")
        fh.write(("寻找一款K7,机械师 K7 机械键盘,峰景 双人登山帐篷\n" * 1_500_000).encode("utf-8")[: 100 * 1024 * 1024])
    runs = app.get_settings().runs_dir
    before = set(runs.iterdir()) if runs.is_dir() else set()
    client = Client(app_url, verbose=False)
    with pytest.raises(Exception) as err:
        client.predict(handle_file(str(big)), api_name="/finetune")
    assert "超过上限" in str(err.value) and "over the 5 MB limit" in str(err.value)
    # Only new folders count: an earlier test's session may end, and its run be deleted, while this one runs.
    assert (set(runs.iterdir()) if runs.is_dir() else set()) - before == set()
    assert names(client.predict(query="寻找一款K7", top_k=1, api_name="/search")) == ["机械师 K7 机械键盘"]


def test_malformed_upload_is_refused_with_a_message(app_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01binary\x00junk")
    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="NUL"):
        client.predict(handle_file(str(bad)), api_name="/finetune")
    assert names(client.predict(query="寻找一款K7", top_k=1, api_name="/search")) == ["机械师 K7 机械键盘"]


@pytest.mark.parametrize("path", ["/etc/passwd", "{root}/model/model.safetensors", "{root}/app.py", "{root}/catalog.csv", "../../../../etc/hostname"])
def test_files_outside_the_apps_own_outputs_cannot_be_downloaded(app_url, path):
    """allowed_paths is empty: neither system files nor the app's own folders are served by path."""
    import urllib.error
    import urllib.request
    from pathlib import Path

    target = path.format(root=ROOT)
    real = Path(target).read_bytes()[:64] if Path(target).is_file() else None
    for url in (f"{app_url}gradio_api/file={target}", f"{app_url}file={target}"):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read(64)
        except urllib.error.HTTPError as err:
            assert err.code in (400, 403, 404, 405), url
            continue
        assert real is None or body != real, f"{url} served the file"
        assert b"root:x:0" not in body


def test_a_restart_builds_its_page_and_first_search_without_the_training_stack(app_url, tmp_path):
    """Start-up imports neither torch nor transformers once the catalog's vectors and the ONNX exports are cached
    (the running app made them): the page, the first search and the similarity views need only onnxruntime."""
    import json
    import os
    import subprocess
    import sys

    heavy = ("torch", "transformers", "sentence_transformers", "datasets", "sklearn")
    code = (
        "import json, sys\n"
        "import app\n"
        "ctx = app.context\n"
        "hits = ctx.store.engine(ctx.store.default_id, None, ctx.catalog).search('寻找一款K7', top=1).hits\n"
        "ctx.store.encoder('base', None).encode(['机械键盘'])\n"
        f"print(json.dumps({{'heavy': [m for m in {heavy!r} if m in sys.modules], 'top': hits[0].name}}), flush=True)\n"
        # Leave at once: the warm-up thread may be inside onnxruntime's C++ (building the next engine), and ending the
        # interpreter under it aborts the process (std::terminate) after the answer is printed.
        "import os; os._exit(0)\n"
    )
    # Its own runs, uploads and gradio folders (a start clears those); the running app's embedding cache.
    env = {**os.environ, "SHOPSEARCH_RUNS_DIR": str(tmp_path / "runs"), "GRADIO_TEMP_DIR": str(tmp_path / "gradio")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"heavy": [], "top": "机械师 K7 机械键盘"}


def test_the_queue_polls_every_10_ms_while_idle_not_every_1_ms(app_url):
    """gradio's idle queue loop woke 1,000 times a second on the server thread, taking the GIL and a core from a
    fine-tune's two training threads. `with_queue` sets its private poll interval; if gradio stops reading that
    attribute, this fails rather than the setting silently doing nothing."""
    import inspect

    from gradio import queueing

    import app

    assert app.demo._queue.sleep_when_free == app.QUEUE_IDLE_POLL_S == 0.01
    assert "await asyncio.sleep(self.sleep_when_free)" in inspect.getsource(queueing.Queue.start_processing)


def test_a_search_that_ends_after_a_newer_one_began_is_not_drawn(app_url):
    """Two searches of one page can run at once (a price box left, then Enter in the other) and the older may end last:
    it drew over the newer one's results. Now it answers the API with its table but leaves the page's results alone."""
    import app
    from shopsearch.ui.context import Visitor

    class Overtaken(Visitor):
        """A page that starts another search while this one runs (as a second event of the page would)."""

        def active_model(self, store, session):
            self.start_search()
            return super().active_model(store, session)

    search = next(f for f in app.demo.fns.values() if f.api_name == "search").fn
    table, last, fresh = search("寻找一款K7", 5, "hybrid", 0.5, None, None, None, Overtaken(active=app.context.store.default_id))
    assert names({"headers": list(table.columns), "data": table.values.tolist()})[0] == "机械师 K7 机械键盘"
    assert last == fresh == {"__type__": "update"}, "the page's states keep the newer search's results"
    table, last, fresh = search("寻找一款K7", 5, "hybrid", 0.5, None, None, None, Visitor(active=app.context.store.default_id))
    assert last.query == "寻找一款K7" and fresh is not None, "the latest search is drawn"

    class OvertakenByAFailure(Visitor):
        """The newer search failed (Enter on an empty box): it has nothing to draw, so this one is drawn."""

        def active_model(self, store, session):
            self.search_failed(self.start_search())
            return super().active_model(store, session)

    _, last, fresh = search("寻找一款K7", 5, "hybrid", 0.5, None, None, None, OvertakenByAFailure(active=app.context.store.default_id))
    assert last.query == "寻找一款K7" and fresh is not None, "a failed newer search hides nothing"
    follow = next(f for f in app.demo.fns.values() if f.name == "_follow_inputs").fn
    state = Visitor(active=app.context.store.default_id)
    assert follow("  ", [], last, 5, "hybrid", 0.5, None, None, None, state, None)[2] == {"__type__": "update"}, (
        "a trigger that searched nothing leaves the results to be drawn as they are"
    )


def test_each_search_is_drawn_once_and_the_table_follows_the_results_shown(app_url):
    """The drawing step after an older search that ended last must neither skip the newer results nor draw them twice
    (drawing again would put back price boxes the visitor has since typed into); it puts the table back."""
    import app
    from shopsearch.ui.context import Visitor

    search = next(f for f in app.demo.fns.values() if f.api_name == "search").fn
    show = next(f for f in app.demo.fns.values() if f.name == "_show_search").fn
    state = Visitor(active=app.context.store.default_id)
    _, last, fresh = search("寻找一款K7", 5, "hybrid", 0.5, None, None, None, state)
    first = show(last, fresh, state, None)
    again = show(last, fresh, state, None)  # the drawing step of an older search that ended after this one
    assert "hit-name" in first[3] and list(first[0]["name"])[0] == "机械师 K7 机械键盘", "drawn, with its table"
    assert list(again[0]["name"]) == list(first[0]["name"]) and all(v == {"__type__": "update"} for v in again[1:])


def test_compare_searches_the_other_model_with_the_same_filters_and_weight(app_url, catalog):
    """Compare runs the query again with the other shipped model: with the category, price bounds and semantic weight
    of the search it compares, or its column lists products the search had filtered out."""
    client = Client(app_url, verbose=False)
    client.predict(query="耳机", top_k=5, alpha=0.0, category="机械键盘", max_price=500, api_name="/search")
    answer = client.predict(api_name="/compare")
    table = answer[0] if isinstance(answer, (list, tuple)) else answer
    others = [row[-1] for row in table["data"] if row[-1]]
    assert others, table
    keyboards = {p.name for p in catalog.products if p.category == "机械键盘" and p.price is not None and p.price <= 500}
    assert set(others) <= keyboards, set(others) - keyboards
