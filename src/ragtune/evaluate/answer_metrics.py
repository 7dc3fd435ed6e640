"""Answer metrics: SQuAD exact match and token F1, answer hit (gold contained, numbers with a
tolerance), numeric match (numeric gold answers: formatting, scale and rounding),
answer-in-context, citation precision/recall.

Normalisation for EM, F1 and answer-in-context is the official SQuAD v1.1 script's: lower case,
punctuation and the articles a/an/the removed, whitespace collapsed. ``answer_hit`` reads numbers
before punctuation is dropped (its own rules, in its docstring). Every score is the best over the
gold answers.
"""

from __future__ import annotations

import decimal
import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    normalized = normalize_answer(prediction)
    return float(any(normalized == normalize_answer(g) for g in golds))


def _f1(prediction: str, gold: str) -> float:
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = sum((Counter(predicted) & Counter(expected)).values())
    if not predicted or not expected:
        return float(predicted == expected)
    if common == 0:
        return 0.0
    p, r = common / len(predicted), common / len(expected)
    return 2 * p * r / (p + r)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    return max((_f1(prediction, g) for g in golds), default=0.0)


def answer_in_context(golds: Sequence[str], contexts: Iterable[str]) -> float:
    """1 when some gold answer occurs (normalised) in the text the model was given: the ceiling
    any reader could reach on this retrieval."""
    haystack = " ".join(normalize_answer(c) for c in contexts)
    return float(any(normalize_answer(g) and f" {normalize_answer(g)} " in f" {haystack} " for g in golds))


def citation_precision(cited: Iterable[str], relevant: Iterable[str]) -> float | None:
    """Share of the distinct documents an answer cites that are relevant; None when it cites none."""
    cited_set = set(cited)
    return len(cited_set & set(relevant)) / len(cited_set) if cited_set else None


def citation_recall(cited: Iterable[str], relevant: Iterable[str]) -> float | None:
    """Share of the relevant documents the answer cites; None when nothing is judged relevant."""
    relevant_set = set(relevant)
    return len(set(cited) & relevant_set) / len(relevant_set) if relevant_set else None


# -- answer hit ------------------------------------------------------------------------------------

RELATIVE_TOLERANCE = 0.005
"""Two numbers are the same amount when they differ by at most 0.5 % of the larger one."""
UNIT_GAP = 1
"""Words the prediction may put between a gold number and the gold word next to it
("27 working days" holds "27 days")."""

CURRENCIES = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD",
    "£": "GBP", "gbp": "GBP",
    "chf": "CHF",
}
"""Currency symbols and words (lower case) and the code they stand for."""

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_TOKEN = re.compile(
    r"(?P<number>(?<![^\W\d_])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d|,\d)|(?<![^\W\d_])\d+(?:\.\d+)?)"
    r"|(?P<symbol>[€$£%])"
    r"|(?P<word>\w*[^\W\d_]\w*)"
)


@dataclass(frozen=True, slots=True)
class _Amount:
    value: float
    unit: str | None
    """``%``, a currency code, or None for a bare number."""


_Token = str | _Amount


def _raw_tokens(text: str) -> list[tuple[str, str]]:
    text = unicodedata.normalize("NFKC", text).lower()
    return [(m.lastgroup or "", m.group()) for m in _TOKEN.finditer(text)]


def _number_word(raw: list[tuple[str, str]], i: int) -> tuple[float, int] | None:
    """The value of a number word at ``raw[i]`` and how many tokens it spans ("twenty seven")."""
    kind, word = raw[i]
    if kind != "word" or word not in _NUMBER_WORDS:
        return None
    value = _NUMBER_WORDS[word]
    if 20 <= value <= 90 and i + 1 < len(raw) and raw[i + 1][0] == "word" and 1 <= _NUMBER_WORDS.get(raw[i + 1][1], 0) <= 9:
        return value + _NUMBER_WORDS[raw[i + 1][1]], 2
    return value, 1


def _tokens(text: str) -> list[_Token]:
    """Words and amounts: a number takes the ``%``/"percent"/"per cent" or the currency right
    after it, else a currency right before it; articles and punctuation are dropped."""
    raw = _raw_tokens(text)
    out: list[_Token] = []
    pending: str | None = None  # a currency waiting for the number after it
    i = 0
    while i < len(raw):
        kind, token = raw[i]
        spelled = _number_word(raw, i)
        if kind == "number" or spelled is not None:
            value, i = (float(token.replace(",", "")), i + 1) if spelled is None else (float(spelled[0]), i + spelled[1])
            unit, pending = pending, None
            following = raw[i][1] if i < len(raw) else ""
            if following in ("%", "percent") or (following == "per" and i + 1 < len(raw) and raw[i + 1][1] == "cent"):
                unit, i = "%", i + (2 if following == "per" else 1)
            elif following in CURRENCIES:
                if unit is None:
                    unit = CURRENCIES[following]
                i += 1
            out.append(_Amount(value, unit))
            continue
        if pending is not None:  # a currency not followed by a number is a word
            out.append(pending.lower())
            pending = None
        if token in CURRENCIES:
            pending = CURRENCIES[token]
        elif kind == "word" and token not in ("a", "an", "the"):
            out.append(token)
        i += 1
    if pending is not None:
        out.append(pending.lower())
    return out


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _same(gold: _Token, predicted: _Token, unit_word: bool) -> bool:
    if isinstance(gold, _Amount):
        return (isinstance(predicted, _Amount) and (gold.unit is None or gold.unit == predicted.unit)
                and math.isclose(gold.value, predicted.value, rel_tol=RELATIVE_TOLERANCE))
    if isinstance(predicted, _Amount):
        return False
    return gold == predicted or (unit_word and _singular(gold) == _singular(predicted))


def _contains(predicted: list[_Token], gold: list[_Token]) -> bool:
    def unit_word(j: int) -> bool:
        return isinstance(gold[j], str) and any(
            0 <= n < len(gold) and isinstance(gold[n], _Amount) for n in (j - 1, j + 1))

    def rest(j: int, k: int) -> bool:  # gold[j:] matches from predicted[k], gold[j - 1] matched predicted[k - 1]
        if j == len(gold):
            return True
        gap = UNIT_GAP if isinstance(gold[j], _Amount) != isinstance(gold[j - 1], _Amount) else 0
        for skip in range(gap + 1):
            at = k + skip
            if at >= len(predicted) or (skip and isinstance(predicted[at - 1], _Amount)):
                break
            if _same(gold[j], predicted[at], unit_word(j)) and rest(j + 1, at + 1):
                return True
        return False

    return bool(gold) and any(
        _same(gold[0], p, unit_word(0)) and rest(1, k + 1) for k, p in enumerate(predicted))


def answer_hit(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when some gold answer is contained in the prediction, else 0.0.

    Both texts are read as a sequence of words and amounts (NFKC, lower case; punctuation and the
    articles a/an/the dropped, so only whole words ever match):

    - a number is digits with an optional decimal part and optional comma thousands groups
      (``1,200`` is 1200, ``3.0`` is 3), or a number word (``three``, ``twenty-seven``); digits
      glued to a letter before them are part of a word (``C200``);
    - a number followed by ``%``, ``percent`` or ``per cent`` is a percentage (``80 %`` is
      ``80%``); a number next to a currency in :data:`CURRENCIES`, after it or else before it,
      is an amount of that currency (``EUR 899``, ``€899``, ``899 EUR``, ``899 euros``).

    The gold answer's sequence must occur in the prediction's, in order and contiguous, except
    that up to :data:`UNIT_GAP` words may stand between a number and the gold word beside it.
    Numbers are equal within :data:`RELATIVE_TOLERANCE` (relative); a gold percentage or amount
    needs the same unit in the prediction, a bare gold number matches whatever follows the number.
    The word beside a gold number (its unit: ``27 days``, ``bay 3``) also matches its singular or
    plural. So ``89`` misses ``899``, ``27 days`` misses ``27 weeks``, a gold of words only needs
    those words in that order, and a gold that normalises to nothing never hits.
    """
    predicted = _tokens(prediction)
    return float(any(_contains(predicted, _tokens(g)) for g in golds))


# -- numeric match ---------------------------------------------------------------------------------

SCALES = {
    "thousand": 3, "k": 3,
    "million": 6, "millions": 6, "mn": 6, "mm": 6, "m": 6,
    "billion": 9, "billions": 9, "bn": 9, "b": 9,
    "trillion": 12, "trillions": 12, "tn": 12,
}
"""Scale words (lower case) after a number and the power of ten they multiply it by."""

_AMOUNT = re.compile(
    r"(?<![\w.,])"  # not the tail of a word (FY2022), a decimal or a thousands group
    r"(?P<minus>[-−–])?\s*(?P<paren>\()?\s*(?P<minus2>[-−–])?\s*"
    r"(?:(?P<pre>[$€£]|usd|eur|gbp|chf)\s*)?(?P<minus3>[-−–])?\s*"
    r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d|,\d)|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s*(?P<scale>thousand|millions?|mn|mm|m|billions?|bn|b|trillions?|tn|k)(?![^\W\d_]))?"
    r"(?:\s*(?P<post>%|percent|per\s+cent|usd|eur|gbp|chf|dollars?|euros?)(?![^\W\d_]))?"
    r"(?P<close>\s*\))?"
)
"""One amount: an optional sign (``-`` or accounting parentheses), currency before or after,
digits with comma thousands groups and decimals, a scale word, ``%``. The parts are lower case."""
_UNITS = {"%": "%", "percent": "%", **CURRENCIES}


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number as written: its digits (``Decimal``, so precision is kept), the power of ten its
    scale word stands for (None when it has none), its unit and sign."""

    digits: decimal.Decimal
    scale: int | None
    unit: str | None
    """``%``, a currency code, or None."""
    negative: bool
    parenthesised: bool
    """Written in accounting parentheses, ``(1,577)``."""

    @property
    def places(self) -> int:
        """Decimal places as written: ``8.70`` has 2, ``1,577`` 0."""
        return max(0, -int(self.digits.as_tuple().exponent))


def _quantity(match: re.Match[str]) -> Quantity:
    number = match.group("number").replace(",", "")
    unit_word = match.group("post") or match.group("pre")
    unit = _UNITS.get(" ".join(unit_word.split())) if unit_word else None
    if unit_word and unit_word.startswith("per"):
        unit = "%"
    scale = match.group("scale")
    paren = bool(match.group("paren") and match.group("close"))
    minus = bool(match.group("minus") or match.group("minus2") or match.group("minus3"))
    return Quantity(decimal.Decimal(number), SCALES[scale] if scale else None, unit, minus or paren, paren)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().replace("\u00a0", " ")


def quantities(text: str) -> list[Quantity]:
    """Every amount written in ``text``, in order."""
    return [_quantity(m) for m in _AMOUNT.finditer(_normal(text))]


def numeric_answer(gold: str) -> Quantity | None:
    """The amount a gold answer is, when the whole answer is one amount (``$1577.00``, ``65.4%``,
    ``0.66``, ``-$473 million``, ``(1,577)``); None for any answer with words besides."""
    text = _normal(gold).strip().rstrip(".").strip()
    match = _AMOUNT.fullmatch(text)
    return _quantity(match) if match else None


_POWERS = (0, 3, 6, 9)
"""The scales a side that states none may stand for: units, thousands, millions, billions."""


def _equal(gold: Quantity, predicted: Quantity) -> bool:
    # Units: a stated unit on both sides must agree, except that a fraction may stand for a
    # percentage (0.654 for 65.4 %) and the other way round; a missing unit takes any.
    if gold.unit and predicted.unit and gold.unit != predicted.unit:
        return False  # a percentage and an amount, or two currencies
    factors = [decimal.Decimal(1)]
    if gold.unit == "%" and predicted.unit is None:
        factors.append(decimal.Decimal(100))
    elif gold.unit is None and predicted.unit == "%":
        factors.append(decimal.Decimal("0.01"))
    # Sign: a negative gold needs a negative prediction; a positive gold also takes an amount in
    # accounting parentheses (an outflow printed as "(1,577)"), not one with a minus sign.
    if gold.negative != predicted.negative and (gold.negative or not predicted.parenthesised):
        return False
    # Scales: both stated, they count; one stated, the other side's is unknown (the question
    # said "in USD millions"); neither stated, the numbers compare as written.
    if (gold.scale is None) == (predicted.scale is None):
        pairs = [(gold.scale or 0, predicted.scale or 0)]
    elif gold.scale is None:
        pairs = [(p, predicted.scale or 0) for p in _POWERS]
    else:
        pairs = [(gold.scale, p) for p in _POWERS]
    for gold_power, predicted_power in pairs:
        expected = gold.digits.scaleb(gold_power)
        quantum = decimal.Decimal(1).scaleb(gold_power - gold.places)
        # The tolerance forgives a difference in the last digits, never a prediction written
        # less precisely than the gold ("101%" is not "101.5%"; the gold's trailing zeros, as in
        # "$1577.00", do not count as precision).
        precise = predicted.digits.scaleb(predicted_power).as_tuple().exponent <= gold.digits.normalize().scaleb(
            gold_power).as_tuple().exponent
        for factor in factors:
            value = predicted.digits.scaleb(predicted_power) * factor
            try:
                if value.quantize(quantum, rounding=decimal.ROUND_HALF_UP) == expected.quantize(quantum):
                    return True
            except decimal.InvalidOperation:  # more digits than the context holds: not this amount
                pass
            if precise and abs(value - expected) <= decimal.Decimal(str(RELATIVE_TOLERANCE)) * max(abs(value), abs(expected)):
                return True
    return False


def numeric_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the prediction states the amount a numeric gold answer is, else 0.0; a gold
    answer that is not one amount (see :func:`numeric_answer`) is scored by :func:`answer_hit`.

    Any amount in the prediction may match (like ``answer_hit``, containment, not equality).
    Formatting does not count: ``1,577`` is ``1577.00``, ``$`` is ``USD``, ``(1,577)`` is
    -1577. An amount matches a gold amount when:

    - rounded half up to the gold's decimal places it equals the gold (``0.8312`` is ``0.83``,
      ``0.655`` is ``0.66``), or, written at least as precisely as the gold (whose trailing zeros
      do not count: ``$1577.00`` is precise to the unit), it is within :data:`RELATIVE_TOLERANCE`
      (``17.99`` is ``17.98``); a less precise prediction misses (``0.8`` is not ``0.83``,
      ``101%`` is not ``101.5%``, ``$1.58 billion`` is not ``$1577.00``);
    - scale words count when both sides have one (``$1.577 billion`` is ``$1577 million``);
      when only one side has one the other's scale is unknown and may be 1, a thousand, a
      million or a billion (gold ``$1577.00`` to "in USD millions" takes ``$1.577 billion``;
      gold ``$8.70`` to "in USD billions" takes ``$8.7 billion`` and ``8,700 million``);
    - units: a gold currency takes the same currency or none, never ``%``; a gold percentage
      takes ``%``, a bare number or the same ratio as a fraction (``65.4%``: ``65.4``,
      ``0.654``); a bare gold number takes any currency, the same number with ``%`` or its
      percentage (``0.66``: ``66%``);
    - sign: a negative gold (``-$473 million``, ``(473)``) needs a negative prediction; a
      positive gold takes a parenthesised amount (cash-flow statements print outflows such as
      capital expenditure as ``(1,577)``) but not one written with a minus sign.
    """
    scores = []
    predicted: list[Quantity] | None = None
    for gold in golds:
        amount = numeric_answer(gold)
        if amount is None:
            scores.append(answer_hit(prediction, [gold]))
            continue
        if predicted is None:
            predicted = quantities(prediction)
        scores.append(float(any(_equal(amount, p) for p in predicted)))
    return max(scores, default=0.0)
