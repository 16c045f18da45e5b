"""The text of a Doc, joined once.

`Doc.text` builds a Token object per word and joins their texts on every access; the ner stage's
components (ruler, LAC, trained model, linker, row writer) each read it, which cost a fifth of a
second per thousand articles per reader. The stage stores it once per document with `remember_text`
right after reading the DocBin, and the components read `doc_text`, which falls back to `Doc.text`
for a Doc that was not prepared so (a notebook's `nlp(text)`). A Doc's text cannot change after it
is built (tokens are fixed), so the stored copy never goes stale.
"""

from __future__ import annotations

from spacy.tokens import Doc

TEXT_KEY = "newslens_text"


def remember_text(doc: Doc, text: str | None = None) -> str:
    """Store the Doc's text; a caller that has it already (joined from a DocBin's arrays by
    `pipeline.docstore.docbin_texts`) passes it in."""
    if text is None:
        text = doc.text
    doc.user_data[TEXT_KEY] = text
    return text


def doc_text(doc: Doc) -> str:
    text = doc.user_data.get(TEXT_KEY)
    return text if text is not None else doc.text
