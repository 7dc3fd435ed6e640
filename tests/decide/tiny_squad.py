"""A small SQuAD-layout set written on the fly: one article per plant, distinct words per
article so retrieval separates them, numeric gold answers for the freshness test."""

from __future__ import annotations

import json
from pathlib import Path

PLANTS = [
    ("Aldwick", "turbines", 1987, 240, "Marta Jensen"),
    ("Brenford", "bicycles", 1994, 115, "Oskar Lind"),
    ("Corran", "solar panels", 2003, 560, "Ines Duarte"),
    ("Dunmere", "ferry engines", 1979, 75, "Piet Claes"),
    ("Elstow", "glass bottles", 2011, 320, "Ruth Abara"),
    ("Fenwick", "tram rails", 1968, 410, "Tomas Vidal"),
]


def context(name: str, product: str, year: int, staff: int, manager: str) -> str:
    return (f"The {name} works manufactures {product} for export. The {name} works opened in {year} beside the river. "
            f"It employs {staff} people in three shifts. The manager of the {name} works is {manager}.")


def write_tiny_squad(path: Path) -> Path:
    data = []
    for i, (name, product, year, staff, manager) in enumerate(PLANTS):
        text = context(name, product, year, staff, manager)
        qas = [
            {"id": f"{i}-staff", "question": f"How many people does the {name} works employ?",
             "answers": [{"text": f"{staff} people", "answer_start": text.index(f"{staff} people")}]},
            {"id": f"{i}-manager", "question": f"Who is the manager of the {name} works?",
             "answers": [{"text": manager, "answer_start": text.index(manager)}]},
            {"id": f"{i}-opened", "question": f"In which year did the {name} works open?",
             "answers": [{"text": str(year), "answer_start": text.index(str(year))}]},
        ]
        data.append({"title": name, "paragraphs": [{"context": text, "qas": qas}]})
    path.write_text(json.dumps({"version": "tiny", "data": data}), encoding="utf-8")
    return path
