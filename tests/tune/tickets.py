"""A tiny ticket -> JSON instruction set: enough for a LoRA to learn the format in a few steps."""

from __future__ import annotations

import json
from pathlib import Path

CATEGORIES = {
    "card_declined": ("my card was declined at the {}", "high"),
    "lost_card": ("I lost my card near the {}", "high"),
    "refund": ("I want a refund for a purchase at the {}", "low"),
}
PLACES = ["shop", "station", "airport", "cafe", "market", "hotel", "cinema", "bakery", "garage", "museum"]


def write_tickets(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for category, (template, priority) in CATEGORIES.items():
            for place in PLACES:
                completion = json.dumps({"category": category, "priority": priority})
                handle.write(json.dumps({"prompt": "Ticket: " + template.format(place), "completion": completion}) + "\n")
    return path
