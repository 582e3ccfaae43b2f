"""Two versions compared line by line: each field and each line of a template on its own."""

from __future__ import annotations

from sluice.prompts.diff import diff
from sluice.store.records import PromptMessage, PromptVersion


def test_diff_shows_what_changed_and_nothing_else() -> None:
    a = PromptVersion(
        "t",
        "support",
        1,
        [PromptMessage("system", "You help {company}.\nBe brief."), PromptMessage("user", "{q}")],
        ["company", "q"],
        0,
        "ops",
        model="gpt-4o-mini",
        params={"temperature": 0.2},
        note="first",
    )
    b = PromptVersion(
        "t",
        "support",
        2,
        [PromptMessage("system", "You help {company}.\nBe kind."), PromptMessage("user", "{q}")],
        ["company", "q"],
        5,
        "someone else",
        params={"temperature": 0.2, "max_tokens": 100},
        note="first",
    )
    assert diff(a, b) == (
        "--- support@1\n"
        "+++ support@2\n"
        "@@ -1,9 +1,10 @@\n"
        '-model: "gpt-4o-mini"\n'
        "+model: null\n"
        ' variables: ["company","q"]\n'
        "+params.max_tokens: 100\n"
        " params.temperature: 0.2\n"
        ' note: "first"\n'
        " messages[0] system:\n"
        "   You help {company}.\n"
        "-  Be brief.\n"
        "+  Be kind.\n"
        " messages[1] user:\n"
        "   {q}\n"
    )
    assert diff(a, a) == ""
