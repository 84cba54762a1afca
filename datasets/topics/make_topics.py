#!/usr/bin/env python3
"""Generates the 7-way topic classification corpus and the masked-LM pretraining corpus of
datasets/topics/ (attnflow's own generator; no third-party text).

Every sentence is a template over shared filler words with 2-4 topic slots. Each slot takes a
word of the sentence's topic, or with probability NOISE a word of another topic (a confounder),
so the topic is told by the majority of the topic words, not by any single one: the best
possible accuracy is well below 1 (about 0.8, estimated by `--bayes`).

    python3 datasets/topics/make_topics.py datasets/topics      # writes the files below

Files: train.jsonl valid.jsonl test.jsonl ({"text", "label", "topic"}), mlm_train.jsonl
mlm_valid.jsonl ({"text"}: unlabelled sentences of the same grammar, another seed), vocab.txt.
Deterministic: Python's random.Random (Mersenne Twister) with fixed seeds.
"""
import json
import os
import random
import sys

TOPICS = {
    "sport": "match goal team coach league player stadium referee season score tournament "
             "striker keeper penalty trophy fans",
    "music": "song album band guitar concert melody singer chorus drummer piano lyrics stage "
             "rhythm orchestra violin tune",
    "food": "recipe soup bread kitchen chef flavour dinner salad oven spice dessert butter "
            "garlic menu sauce noodles",
    "weather": "rain storm cloud wind forecast snow thunder sunshine frost humidity breeze fog "
               "drizzle temperature hail drought",
    "science": "experiment theory molecule laboratory data physics cell hypothesis telescope "
               "atom enzyme galaxy equation microscope gene particle",
    "finance": "market stock bank loan interest budget profit investor shares bond tax credit "
               "inflation pension dividend revenue",
    "travel": "flight hotel passport luggage journey airport train ticket museum beach tour "
              "visa island map suitcase cruise",
}
NAMES = list(TOPICS)
WORDS = {t: w.split() for t, w in TOPICS.items()}
FILLER = {
    "subject": ["the people", "my friend", "our neighbour", "everyone", "the family", "someone",
                "my sister", "they"],
    "verb": "liked discussed mentioned noticed described remembered praised questioned".split(),
    "adj": "new old strange good long short famous quiet busy local".split(),
    "adv": "again yesterday today often quickly later".split(),
    "conn": "and but while because".split(),
}
# {T} = a topic slot; other braces = filler classes (multi-word fillers split on spaces).
TEMPLATES = [
    "{subject} {verb} the {adj} {T} and the {T}",
    "{subject} {verb} the {T} {adv} {conn} the {T} was {adj}",
    "the {T} was {adj} {conn} {subject} {verb} the {T} and the {T}",
    "{adv} {subject} {verb} a {adj} {T} near the {T}",
    "{subject} {verb} the {T} the {T} and the {adj} {T}",
    "after the {T} {subject} {verb} the {T} {adv}",
    "the {adj} {T} and the {T} {conn} the {T} and the {T}",
]
NOISE = 0.3
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def sentence(rng, topic):
    template = rng.choice(TEMPLATES)
    out = []
    for part in template.split():
        if part == "{T}":
            t = topic if rng.random() >= NOISE else rng.choice([x for x in NAMES if x != topic])
            out.append(rng.choice(WORDS[t]))
        elif part.startswith("{"):
            out.extend(rng.choice(FILLER[part[1:-1]]).split())
        else:
            out.append(part)
    return " ".join(out)


def labelled(rng, per_topic):
    rows = [(k, sentence(rng, t)) for _ in range(per_topic) for k, t in enumerate(NAMES)]
    rng.shuffle(rows)
    return [{"text": s, "label": k, "topic": NAMES[k]} for k, s in rows]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def bayes_accuracy(rows):
    """Accuracy of the majority vote over the topic words (ties: the first), an estimate of
    what a model can reach."""
    owner = {w: k for k, t in enumerate(NAMES) for w in WORDS[t]}
    correct = 0
    for r in rows:
        votes = [0] * len(NAMES)
        for w in r["text"].split():
            if w in owner:
                votes[owner[w]] += 1
        correct += votes.index(max(votes)) == r["label"]
    return correct / len(rows)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    splits = {"train": (300, 1), "valid": (50, 2), "test": (50, 3)}
    for name, (per_topic, seed) in splits.items():
        rows = labelled(random.Random(seed), per_topic)
        write_jsonl(os.path.join(out, name + ".jsonl"), rows)
        print(f"{name}: {len(rows)} sentences, majority-vote accuracy {bayes_accuracy(rows):.3f}")
    for name, (count, seed) in {"mlm_train": (6000, 11), "mlm_valid": (600, 12)}.items():
        rng = random.Random(seed)
        rows = [{"text": sentence(rng, rng.choice(NAMES))} for _ in range(count)]
        write_jsonl(os.path.join(out, name + ".jsonl"), rows)
        print(f"{name}: {len(rows)} sentences")
    vocab = set(w for t in WORDS.values() for w in t)
    for words in FILLER.values():
        for phrase in words:
            vocab.update(phrase.split())
    for template in TEMPLATES:
        vocab.update(p for p in template.split() if not p.startswith("{"))
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(SPECIALS + sorted(vocab)) + "\n")
    print(f"vocab.txt: {len(SPECIALS) + len(vocab)} tokens")


if __name__ == "__main__":
    main()
