"""Catalog loading and validation; the shipped catalog meets the product's requirements."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from shopsearch.common.config import ROOT
from shopsearch.common.errors import CatalogError
from shopsearch.data.catalog import load_catalog

SEED = ROOT / "data" / "seed_products.csv"  # a copy of shared/seed/seed_products.csv


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("id,product\nP1,键盘\n", "name (or title, 标题) is required"),
        ("id,name\nP1,键盘\nP1,鼠标\n", "P1"),
        ("id,name\nP1,键盘\nP2,\n", "name is empty"),
        ("id,name\n,键盘\n", "id is empty"),
        ("商品ID,宝贝标题\n7,红色连衣裙\n8,\n", "Row 3: the 宝贝标题 is empty"),  # the column as the file names it
        ("Item_ID,Title\n,红色连衣裙\n", "Row 2: the Item_ID is empty"),
        ("id,name,price\nP1,键盘,cheap\n", "not a number"),
        ("id,name\n", "no product rows"),
    ],
)
def test_invalid_catalogs_raise_a_clear_error(write, content, fragment):
    """Duplicate ids, missing columns, empty names and bad prices are refused with a message that names them."""
    with pytest.raises(CatalogError) as err:
        load_catalog(write("catalog.csv", content))
    assert fragment in str(err.value)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(err.value)), "the message must be in Chinese too"


def test_missing_file_says_which(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "nope.csv")


def test_only_id_and_name_are_required(write):
    catalog = load_catalog(write("c.csv", "id,name\nA,机械师 K7 机械键盘\nB,网速 AX55 无线路由器\n"))
    assert [p.id for p in catalog.products] == ["A", "B"]
    assert catalog[0].text == "机械师 K7 机械键盘" and catalog[0].price is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("title\n红色连衣裙\n电热水壶 1.5L\n", [("1", "红色连衣裙", None), ("2", "电热水壶 1.5L", None)]),
        ("item_id,title,price\n7,红色连衣裙,99\n", [("7", "红色连衣裙", 99.0)]),
        ("商品ID,宝贝标题,价格\n7,红色连衣裙,99\n", [("7", "红色连衣裙", 99.0)]),
        ("标题,售价\n红色连衣裙,99\n", [("1", "红色连衣裙", 99.0)]),
        ("id,name,title\nA,键盘,键盘 K7\n", [("A", "键盘", None)]),  # our own column wins over an alias
        ("ID,id,name\nA,B,键盘\n", [("A", "键盘", None)]),  # a repeated header: the first column is read
    ],
)
def test_the_layouts_shops_export_are_read_titles_alone_numbered(write, content, expected):
    """A list of titles is a catalog (rows numbered 1, 2, 3…); item_id/title and Chinese headers (宝贝标题, 价格) map
    onto ours."""
    catalog = load_catalog(write("c.csv", content))
    assert [(p.id, p.name, p.price) for p in catalog.products] == expected


def test_gbk_catalog_is_read(write):
    catalog = load_catalog(write("c.csv", "id,name,price\nA,机械师 K7 机械键盘,￥299\n".encode("gbk")))
    assert catalog[0].name == "机械师 K7 机械键盘" and catalog[0].price == 299.0


def test_fingerprint_changes_with_one_product(write):
    one = load_catalog(write("a.csv", "id,name\nA,键盘\nB,鼠标\n"))
    same = load_catalog(write("b.csv", "id,name\nA,键盘\nB,鼠标\n"))
    changed = load_catalog(write("c.csv", "id,name\nA,键盘\nB,无线鼠标\n"))
    assert one.fingerprint == same.fingerprint != changed.fingerprint


def test_the_fingerprint_covers_every_column_and_the_vectors_only_what_is_embedded(write):
    """Two catalogs with the same ids and text but another price or category split are different catalogs (an engine
    shared between them would show one visitor another's prices); their vectors can still be shared."""
    shipped = load_catalog(write("a.csv", "id,name,category,price\nA,机械师 K7 机械键盘,键盘,299\n"))
    repriced = load_catalog(write("b.csv", "id,name,category,price\nA,机械师 K7 机械键盘,键盘,1\n"))
    private = load_catalog(write("c.csv", "id,name,category,price\nA,机械师 K7 机械键盘,我的秘密类别,299\n"))
    assert len({shipped.fingerprint, repriced.fingerprint, private.fingerprint}) == 3
    assert shipped.documents_fingerprint == repriced.documents_fingerprint == private.documents_fingerprint


def test_shipped_catalog_meets_the_spec(catalog):
    """≥300 products in ≥25 categories; unique ids; every seed category has ≥4 competitors."""
    assert len(catalog) >= 300
    assert len(catalog.categories) >= 25
    assert len({p.id for p in catalog.products}) == len(catalog)
    per_category = Counter(p.category for p in catalog.products)
    with SEED.open(encoding="utf-8") as fh:
        seeds = list(csv.DictReader(fh))
    by_name = {p.name: p for p in catalog.products}
    for seed in seeds:
        product = by_name[seed["name"]]
        assert product.description == seed["description"], seed["name"]
        assert per_category[product.category] >= 5, product.category


def test_english_counts_agree_with_their_nouns():
    """One row, one product, one query: the smallest inputs read as English ("Loaded 1 products" did not)."""
    from shopsearch.common.errors import counted
    from shopsearch.ui.text import catalog_loaded

    assert [counted(n, "triplet") for n in (0, 1, 2)] == ["0 triplets", "1 triplet", "2 triplets"]
    assert counted(1, "query") == "1 query" and counted(3, "query") == "3 queries" and counted(2, "day") == "2 days"
    assert "Loaded 1 product;" in catalog_loaded(1) and "Loaded 2 products;" in catalog_loaded(2)
