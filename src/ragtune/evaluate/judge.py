"""An optional LLM judge: asks a configured model whether an answer matches the reference.

Judges drift (the reason ragtune's metrics are deterministic first), so the judge is asked
``repeats`` times with different seeds and the spread is reported with the mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragtune.generate.base import LLM, GenerationOptions, Message, complete

JUDGE_PROMPT = """You grade answers to questions. Compare the ANSWER with the REFERENCE answer.
Reply with one digit from 0 to 5: 5 = same meaning as the reference, 3 = partly right, 0 = wrong or no answer.

QUESTION: {question}
REFERENCE: {reference}
ANSWER: {answer}

Grade (0-5):"""

_DIGIT = re.compile(r"[0-5]")


@dataclass(frozen=True, slots=True)
class Judgement:
    scores: tuple[float | None, ...]
    """One grade in [0, 1] per repeat; None where the judge's reply held no grade."""

    @property
    def mean(self) -> float | None:
        valid = [s for s in self.scores if s is not None]
        return sum(valid) / len(valid) if valid else None


class LLMJudge:
    def __init__(self, llm: LLM, repeats: int = 3, temperature: float = 0.7, seed: int = 0) -> None:
        if repeats < 1:
            raise ValueError("the judge needs at least one repeat")
        self.llm, self.repeats, self.temperature, self.seed = llm, repeats, temperature, seed

    def judge(self, question: str, reference: str, answer: str) -> Judgement:
        prompt = JUDGE_PROMPT.format(question=question, reference=reference, answer=answer)
        scores: list[float | None] = []
        for repeat in range(self.repeats):
            options = GenerationOptions(max_tokens=4, temperature=self.temperature, seed=self.seed + repeat)
            reply = complete(self.llm, [Message("user", prompt)], options).text
            digit = _DIGIT.search(reply)
            scores.append(int(digit.group()) / 5 if digit else None)
        return Judgement(tuple(scores))
