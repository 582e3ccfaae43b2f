import statistics
import time

import pytest

from sluice.cache.verify import Verdict, compare

# (a, b, the start of the reason): near misses each rule must reject.
NEAR_MISSES = [
    ("What is the capital of Germany?", "Quelle est la capitale de l'Allemagne ?", "language differs: en"),
    ("What is machine learning?", "Что такое машинное обучение?", "language differs: en vs cyrillic"),
    ("How do I make pancakes?", "¿Cómo hago panqueques?", "language differs: en vs es"),
    ("Is 17 a prime number?", "Is 19 a prime number?", "numbers differ: {17} vs {19}"),
    ("What is 10 minus 4?", "What is 4 minus 10?", "numbers in another order"),
    ("Convert 1,000 USD to EUR", "Convert 100 USD to EUR", "numbers differ"),
    ("Give me five ideas", "Give me six ideas", "numbers differ: {5} vs {6}"),
    ("What is the third largest planet?", "What is the 4th largest planet?", "numbers differ"),
    ("Convert 5 km to miles", "Convert 5 miles to km", "units differ"),
    ("How many feet are in a mile?", "How many miles are in a foot?", "units differ"),
    ("Convert 100°F to Celsius", "Convert 100°C to Fahrenheit", "units differ"),
    ("What is the capital of Australia?", "What is the capital of Austria?", "entities differ: australia"),
    ("Paris is the capital of which country?", "Berlin is the capital of which country?", "entities differ"),
    ("Translate 'good morning' into Spanish", "Translate 'good night' into Spanish", "entities differ: good"),
    ("What does `getUserId` return?", "What does `getUserID` return?", "code tokens differ: getUserId"),
    ("What does `git reset --soft` do?", "What does `git reset --hard` do?", "code tokens differ: --soft"),
    ("What is == vs ===?", "What is != vs !==?", "code blocks or operators differ"),
    ("Fix this:\n```\nreturn a - b\n```", "Fix this:\n```\nreturn a + b\n```", "code blocks or operators"),
    ("Which fruits are red?", "Which fruits are not red?", "negation in the second prompt only"),
    ("Name a mammal that lays eggs", "Name a mammal that doesn't lay eggs", "negation"),
    ("Give me a recipe with mushrooms", "Give me a recipe without mushrooms", "negation"),
    ("Select all users who are admins", "Select all users except admins", "negation"),
    ("Sort the list in ascending order", "Sort the list in descending order", "direction differs: ascending"),
    ("Should I buy Tesla stock now?", "Should I sell Tesla stock now?", "direction differs: buy vs sell"),
    ("Find the maximum value in an array", "Find the minimum value in an array", "direction differs"),
    ("Get the first element of a list", "Get the last element of a list", "direction differs: first vs last"),
    ("Is the price above the average?", "Is the price below the average?", "direction differs: above"),
    ("How do I translate documents to Spanish?", "How do I translate documents from Spanish?", "direction"),
    ("Is a cat bigger than a dog?", "Is a dog bigger than a cat?", "operands swapped: cat, dog"),
    ("Is Paris bigger than London?", "Is London bigger than Paris?", "operands swapped"),
    ("Convert a string to an integer", "Convert an integer to a string", "operands swapped: string, integer"),
    ("Train times from Boston to New York", "Train times from New York to Boston", "operands swapped"),
    ("List the planets as JSON", "List the planets as YAML", "format differs: json vs yaml"),
    ("Reverse a string in Python", "Reverse a string in JavaScript", "format differs: python vs javascript"),
    ("Show the data as a table", "Show the data as a bulleted list", "format differs: table vs bullet"),
    ("Write a poem about autumn", "Write a haiku about autumn", "format differs"),
    ("Explain DNS briefly", "Explain DNS in detail", "length differs: short vs long"),
    ("Explain recursion in three sentences", "Explain recursion in three paragraphs", "length differs"),
    ("Describe the Moon landing", "Describe the Moon landing in one sentence", "length differs: none vs 1"),
    ("How do I cook rice?", "How do I cook quinoa?", "a different word in the same place: rice vs quinoa"),
    ("what is the capital of france", "what is the capital of spain", "a different word in the same place"),
    ("How do I make a cake?", "How do I make a vegan cake?", "only one prompt narrows it: vegan"),
    ("How do I learn Spanish?", "How do I learn Spanish for free?", "only one prompt narrows it: free"),
    ("How do I reverse a string?", "How do I reverse a string recursively?", "only one prompt narrows it"),
    # scope: how much, and whose
    ("Do all spiders spin webs?", "Do some spiders spin webs?", "scope differs: all vs some"),
    ("Show my unpaid bills.", "Show all unpaid bills.", "scope differs: mine vs all"),
    ("What is my storage quota?", "What is our storage quota?", "scope differs: mine vs ours"),
    ("Which of my builds failed?", "Which of the project's builds failed?", "scope differs: mine vs theirs"),
    ("Do any cars run on water?", "Do all cars run on water?", "scope differs: some vs all"),
    # time: of day, days, seasons, a calendar period pinned by this/next/last
    ("What's the traffic like tonight?", "What's the traffic like tomorrow?", "time differs: tonight"),
    ("Wake me at 6 am.", "Wake me at 6 pm.", "time differs: am vs pm"),
    ("What birds migrate in spring?", "What birds migrate in autumn?", "time differs: spring"),
    ("How many tickets did we close this week?", "How many tickets did we close last week?", "direction"),
    ("What did we ship this month?", "What did we ship this year?", "time differs: this-month"),
    # roles: who does what to whom
    ("What does my tenant owe me?", "What do I owe my tenant?", "roles differ"),
    ("Can the player see the notes?", "Can I see the player's notes?", "roles differ: player's"),
    (
        "Can my coworker edit the slides?",
        "Can I edit my coworker's slides?",
        "scope differs: mine vs mine, theirs",
    ),
    ("Why does the hawk hunt the snake?", "Why does the snake hunt the hawk?", "roles differ"),
    # opposites by prefix, and more antonym axes
    ("Is it legal to camp here?", "Is it illegal to camp here?", "opposites: legal vs illegal"),
    ("Is this account locked?", "Is this account unlocked?", "opposites: locked vs unlocked"),
    ("Why was my payment approved?", "Why was my payment rejected?", "direction differs: approved"),
    ("Is the bakery open on Sundays?", "Is the bakery closed on Sundays?", "direction differs: open"),
    # other languages: a different word in the same place; Chinese and Japanese by characters
    ("¿Cómo borro mi historial?", "¿Cómo exporto mi historial?", "a different word in the same place"),
    ("Comment changer ma photo de profil ?", "Comment changer ma photo de couverture ?", "a different word"),
    ("如何删除我的照片", "如何删除我的视频", "characters differ"),
    ("東京の人口は何人ですか", "大阪の人口は何人ですか", "characters differ"),
]

# Paraphrases that every rule must let through.
PARAPHRASES = [
    ("Quelle est la capitale de la France ?", "Quelle ville est la capitale de la France ?"),
    ("Что такое машинное обучение?", "Объясни, что такое машинное обучение."),
    ("What is 15% of 80?", "Calculate 15 percent of 80."),
    ("Give me 5 ideas for a birthday party", "Suggest five birthday party ideas"),
    ("Convert 1,000 meters to kilometers.", "How many kilometers is 1000 meters?"),
    ("Round 3.14159 to 2 decimal places.", "Give 3.14159 rounded to two decimal places."),
    ("Summarize the book 1984 in 100 words", "Give a 100-word summary of the book 1984"),
    ("Convert 5 km to miles", "How many miles is 5 km?"),
    ("What is 100 degrees Fahrenheit in Celsius?", "Convert 100°F to Celsius."),
    ("How many feet are in a mile?", "How many feet does one mile have?"),
    ("Convert 20 dollars to euros", "How much is $20 in euros?"),
    ("What is the capital of Australia?", "Which city is Australia's capital?"),
    ("Who wrote Pride and Prejudice?", "Who is the author of Pride and Prejudice?"),
    ("is paris bigger than london", "Is Paris bigger than London?"),
    ("What does `os.path.join` do?", "Explain what os.path.join does."),
    ("What does the `--force` flag do in git push?", "Explain git push --force"),
    ("What's the difference between `==` and `===`?", "How does == differ from ===?"),
    ("Which countries do not use the euro?", "Which countries don't use the euro?"),
    ("How do I exit vim without saving?", "How can I quit vim without saving my changes?"),
    ("What is the largest planet in the solar system?", "Which planet in the solar system is the biggest?"),
    ("How do I increase the font size in VS Code?", "How can I make the font bigger in VS Code?"),
    ("How do I center a div in CSS?", "What's the best way to center a div using CSS?"),
    ("Is Tokyo more populous than Delhi?", "Does Tokyo have more people than Delhi?"),
    ("Convert a string to an integer in Java", "In Java, how do I turn a string into an integer?"),
    ("Write a Python function to reverse a string", "Write a function in Python that reverses a string"),
    ("Summarize this article in bullet points", "Give me a bulleted summary of this article"),
    ("List fruits that are not red", "Name some fruits that aren't red"),
    ("Explain quantum computing briefly", "Give me a short explanation of quantum computing"),
    ("Describe photosynthesis in one sentence", "Summarize photosynthesis in a single sentence"),
    ("How do I fix a flat tire?", "How do I fix a flat tyre?"),
    ("What colour is a flamingo?", "What color is a flamingo?"),
    ("Write a poem about cats", "Compose a poem about cats"),
    ("What is the capital of France?", "Which city is the capital of France?"),
    ("What are the symptoms of diabetes?", "What are the main symptoms of diabetes?"),
    ("Can you explain how DNS works?", "Explain how DNS works"),
    ("How do I reset my router?", "What are the steps to reset my router?"),
    ("How long does it take to boil an egg?", "How many minutes should I boil an egg for?"),
    ("Can rabbits eat carrots?", "Are carrots safe for rabbits to eat?"),  # reordered, not swapped
    ("Why does my heart race at night?", "Why does my heart race at night time?"),
    ("How do I clear my cookies?", "What are the steps to delete my cookies?"),  # my / I my
    ("Explain black holes to me.", "What is a black hole?"),  # "me" with no "I" against nothing
    ("Suggest a lunch.", "Recommend something for lunch."),
    ("How do I create a folder?", "How can I make a folder?"),  # create alone is no direction
    ("如何删除我的照片", "我怎样才能删除照片"),
    ("東京の人口は何人ですか", "東京の人口は何人でしょうか"),
    ("¿Cómo borro mi historial?", "¿Cómo puedo borrar mi historial?"),
    ("When did the Roman Empire fall?", "In which year did the Roman Empire fall?"),
]


@pytest.mark.parametrize(("a", "b", "reason"), NEAR_MISSES)
def test_near_misses_are_rejected_with_the_rule_named(a: str, b: str, reason: str) -> None:
    verdict = compare(a, b)
    assert not verdict.ok
    assert verdict.reason is not None and verdict.reason.startswith(reason), verdict.reason


@pytest.mark.parametrize(("a", "b"), PARAPHRASES)
def test_paraphrases_pass(a: str, b: str) -> None:
    assert compare(a, b) == Verdict(True)


@pytest.mark.parametrize(("a", "b"), [(a, b) for a, b, _ in NEAR_MISSES] + PARAPHRASES)
def test_the_verdict_does_not_depend_on_the_order(a: str, b: str) -> None:
    assert compare(a, b).ok == compare(b, a).ok


@pytest.mark.parametrize("text", ["", "   ", "?!", "42", "```\n```", "`x`", "日本語のテキスト"])
def test_a_prompt_matches_itself(text: str) -> None:
    assert compare(text, text) == Verdict(True)


def test_sentence_openers_are_not_taken_for_names() -> None:
    assert compare("Briefly, what is DNS?", "What is DNS, briefly?").ok
    assert compare("Round 3.14159 to 2 places", "Give 3.14159 rounded to 2 places").ok


def test_a_typical_prompt_is_checked_well_under_a_millisecond() -> None:
    a = "How do I convert a 5 km run into miles in Python? Use `math.floor` and give a short answer."
    b = "In Python, how can I turn a 5 km run into miles with `math.floor`? Keep the answer short."
    times = []
    for _ in range(50):
        start = time.perf_counter()
        compare(a, b)
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 1e-3
