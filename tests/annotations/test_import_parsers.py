"""Pure import parsers: every format in, plain item / label dicts with line numbers out."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from annotations.importing import ImportFormatError, iter_items, iter_label_rows

DATA = Path(__file__).parent / "data"


def items(path, **kwargs) -> list[dict]:
    return list(iter_items(path, **kwargs))


def error_of(path, **kwargs) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as caught:
        items(path, **kwargs)
    return caught.value


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_narratives_keep_other_keys_as_metadata_and_skip_blank_lines():
    parsed = items(DATA / "narratives.jsonl", kind="narrative")
    assert [i["external_id"] for i in parsed] == ["n1", "n2", "3"]
    assert [i["line"] for i in parsed] == [1, 2, 4]
    assert parsed[0]["data"] == {"text": "I lost my job the week my daughter was born."}
    assert parsed[0]["metadata"] == {"source": "forum", "year": 2021}
    assert parsed[2]["metadata"] == {"split": "dev"}


def test_jsonl_dialogues_infer_their_kind_from_turns():
    parsed = items(DATA / "dialogues.jsonl")
    assert {i["kind"] for i in parsed} == {"dialogue"}
    assert parsed[0]["data"]["turns"][2] == {"speaker": "A", "text": "Yes, and I feel stupid."}


def test_jsonl_reads_from_an_uploaded_binary_file():
    upload = io.BytesIO(b'\xef\xbb\xbf{"id": "x", "text_a": "one", "text_b": "two"}\n')
    upload.name = "upload.jsonl"
    assert items(upload, kind="pair")[0]["data"] == {"text_a": "one", "text_b": "two"}


@pytest.mark.parametrize(
    "content, line, field",
    [
        ('{"id": "a", "text": "ok"}\n{"id": "b", "text": ""}\n', 2, "text"),
        ('{"id": "a", "text": "ok"}\n{"text": "no id"}\n', 2, "id"),
        ('{"id": "a", "text": "ok"}\n\n{"id": "b", "text": "ok"\n', 3, None),
        ('{"id": "a", "text": "ok"}\n["not", "an", "object"]\n', 2, None),
        ('{"id": "a", "text_a": "x", "text_b": "y"}\n', 1, "text_a"),
        ('{"id": "a", "text": "ok"}\n{"id": "a", "text": "again"}\n', 2, "id"),
        ('{"id": "a", "text": "ok", "gold": 3}\n', 1, "gold"),
    ],
)
def test_malformed_jsonl_names_line_and_field(tmp_path, content, line, field):
    err = error_of(write(tmp_path, "bad.jsonl", content), kind="narrative")
    assert (err.file, err.line, err.field) == ("bad.jsonl", line, field)
    assert "bad.jsonl, line" in str(err)


def test_dialogue_turn_without_speaker_names_the_turn(tmp_path):
    path = write(tmp_path, "d.jsonl", '{"id": "d", "turns": [{"speaker": "A", "text": "hi"}, {"text": "yo"}]}\n')
    err = error_of(path, kind="dialogue")
    assert (err.line, err.field) == (1, "turns[1].speaker")


def test_jsonl_gold_and_attention_check_answers_are_passed_on(tmp_path):
    path = write(tmp_path, "g.jsonl", '{"id": "g", "text": "t", "gold": {"empathy": 2}}\n'
                                      '{"id": "c", "text": "t", "attention_check": {"empathy": 1}}\n')
    gold, check = items(path, kind="narrative")
    assert gold["gold"] == {"empathy": 2} and gold["attention_check"] is None
    assert check["attention_check"] == {"empathy": 1}


def test_plain_csv_responses():
    parsed = items(DATA / "responses.csv", kind="response")
    assert parsed[0]["data"]["context"] == "My cat died yesterday, I can't stop crying."
    assert parsed[0]["metadata"] == {"topic": "loss"}
    assert parsed[1]["metadata"] == {}
    assert [i["line"] for i in parsed] == [2, 3]


def test_csv_with_ragged_row_names_its_line(tmp_path):
    path = write(tmp_path, "bad.csv", "id,text\na,fine\nb,too,many\n")
    err = error_of(path, kind="narrative")
    assert err.line == 3


def test_csv_item_of_the_wrong_kind_is_refused():
    err = error_of(DATA / "responses.csv", kind="narrative")
    assert (err.line, err.field) == (2, "context")


def test_empathetic_dialogues_rows_are_grouped_by_conversation_and_unescaped():
    parsed = items(DATA / "empathetic_dialogues.csv", kind="dialogue")
    assert [i["external_id"] for i in parsed] == ["hit:0_conv:1", "hit:1_conv:2"]
    first = parsed[0]
    assert first["metadata"]["emotion"] == "sentimental"
    assert first["metadata"]["situation"].startswith("I remember going to the fireworks with my best friend., There")
    assert [t["speaker"] for t in first["data"]["turns"]] == ["1", "0", "1"]
    assert first["data"]["turns"][1]["text"] == "Was this a friend you were in love with, or just a best friend?"
    assert first["data"]["turns"][2]["text"] == 'This was a "best friend". I miss her.'
    assert parsed[1]["line"] == 5


def test_empathetic_dialogues_conversation_split_apart_is_an_error(tmp_path):
    text = (DATA / "empathetic_dialogues.csv").read_text().splitlines()
    reordered = "\n".join([text[0], text[1], text[4], text[2]]) + "\n"
    err = error_of(write(tmp_path, "ed.csv", reordered), kind="dialogue")
    assert (err.line, err.field) == (4, "conv_id")


def test_empathetic_dialogues_gap_in_utterance_index_is_an_error(tmp_path):
    text = (DATA / "empathetic_dialogues.csv").read_text().splitlines()
    err = error_of(write(tmp_path, "ed.csv", "\n".join([text[0], text[1], text[3]]) + "\n"), kind="dialogue")
    assert (err.line, err.field) == (3, "utterance_idx")


def test_empathic_stories_pairs_keep_human_scores_as_numbers():
    parsed = items(DATA / "empathic_stories_pairs.csv", kind="pair")
    assert [i["external_id"] for i in parsed] == ["12-345", "7-88"]
    assert parsed[0]["data"]["text_a"].startswith("I moved abroad alone")
    assert parsed[0]["metadata"]["similarity_human"] == {"empathy": 3.25, "event": 2.5, "emotion": 3.75, "moral": 3.0}
    assert parsed[0]["metadata"]["story_A_summary"] == "Moving abroad alone"


def test_epitome_rows_become_response_items_with_the_mechanism_level():
    parsed = items(DATA / "emotional-reactions-reddit.csv", kind="response")
    assert [i["external_id"] for i in parsed] == ["dgbdk7z", "e79e4gx", "d6ct6ke"]
    assert parsed[1]["data"]["context"] == "I feel so alone, nobody understands me."
    assert parsed[1]["metadata"]["epitome"] == {"emotional_reactions": {"level": 2, "rationales": "so sorry|really painful|"}}


def test_epitome_level_out_of_range_is_an_error(tmp_path):
    path = write(tmp_path, "explorations-reddit.csv",
                 "sp_id,rp_id,seeker_post,response_post,level,rationales\na,b,post,reply,3,\n")
    err = error_of(path)
    assert (err.line, err.field) == (2, "level")


def test_turn_level_csv_orders_turns_by_number_and_keeps_extra_cells():
    parsed = items(DATA / "conversation_turns.csv", kind="dialogue")
    assert [i["external_id"] for i in parsed] == ["c1", "c2"]
    assert parsed[0]["data"]["turns"][0] == {"speaker": "P1", "text": "Did you read the article about the flood?",
                                             "metadata": {"article_id": "35"}}
    assert [t["speaker"] for t in parsed[1]["data"]["turns"]] == ["P1", "P2"]


def test_turn_level_csv_duplicate_turn_number_is_an_error(tmp_path):
    path = write(tmp_path, "t.csv", "dialog_id,turn,speaker,text\nx,1,A,hi\nx,1,B,hello\n")
    err = error_of(path)
    assert (err.line, err.field) == (3, "turn")


def test_explicit_format_overrides_detection(tmp_path):
    path = write(tmp_path, "export.txt", "dialog_id,speaker,text\nx,A,hi\nx,B,hello\n")
    assert items(path, fmt="turns")[0]["data"]["turns"][1]["text"] == "hello"
    with pytest.raises(ImportFormatError):
        items(path, fmt="parquet")


def test_format_kind_mismatch_is_refused():
    err = error_of(DATA / "empathetic_dialogues.csv", kind="pair")
    assert "dialogue" in err.message


def test_label_rows_keep_blanks_as_missing_and_extra_columns_as_attributes():
    rows = list(iter_label_rows(DATA / "labels.csv"))
    assert rows[0] == {"line": 2, "item_id": "n1", "annotator_id": "w-001", "dimension": "empathy", "turn": None,
                       "value": "3", "attributes": {"country": "US", "gender": "woman"}}
    assert rows[3]["value"] is None


def test_label_turns_come_from_brackets_or_turn_column():
    rows = list(iter_label_rows(DATA / "turn_labels.csv"))
    assert [(r["dimension"], r["turn"]) for r in rows] == [
        ("empathy", 0), ("empathy", 1), ("empathy", 2), ("empathy", 0), ("overall", None)]


@pytest.mark.parametrize(
    "content, line, field",
    [
        ("item_id,annotator_id,value\n", 1, "dimension"),
        ("item_id,annotator_id,dimension,value\nn1,,empathy,3\n", 2, "annotator_id"),
        ("item_id,annotator_id,dimension,value,turn\nn1,a,empathy[1],3,2\n", 2, "turn"),
        ("item_id,annotator_id,dimension,value\nn1,a,empathy[x],3\n", 2, "dimension"),
    ],
)
def test_malformed_label_rows_name_line_and_field(tmp_path, content, line, field):
    with pytest.raises(ImportFormatError) as caught:
        list(iter_label_rows(write(tmp_path, "l.csv", content)))
    assert (caught.value.line, caught.value.field) == (line, field)


def test_epitome_file_imports_as_labels_of_its_mechanism():
    rows = list(iter_label_rows(DATA / "emotional-reactions-reddit.csv"))
    assert [(r["item_id"], r["annotator_id"], r["dimension"], r["value"]) for r in rows] == [
        ("dgbdk7z", "epitome", "emotional_reactions", "0"),
        ("e79e4gx", "epitome", "emotional_reactions", "2"),
        ("d6ct6ke", "epitome", "emotional_reactions", "1"),
    ]
