#!/usr/bin/env python3
r"""Write a class of synthetic submissions: ``make_class.py N OUTDIR [--seed S] [--sigmoid M]``.

Each softmax-2layer submission answers the five graded parts (dJ/dz3, dJt/dW2, dJt/dW1,
dJ/db1, dJ/db2) in one of the layouts a student may use (samples as columns, as rows, one
sample), in LaTeX or Unicode, with its own notation (layer indices (3), [3] or bare 3;
transposes ^T, ^\top, ^{\mathsf T}, ' or ᵀ; ψ, softmax or A3; Δ or Y; ⊙, ∘ or *; the ReLU
derivative as 1[z > 0], 1_{z > 0}, φ'(z) or ReLU'(z)), its own presentation (one-line
chains, aligned blocks, a line per step, part labels, prose) and OCR noise (extra spaces,
\left( … \right), a dropped closing parenthesis). Random planted mistakes come from
MISTAKES; a planted wrong step is a wrong closed form in the middle of a chain.

``--sigmoid M`` also writes M sigmoid-bce-1hidden submissions (the XNOR forward pass and
the one-sample derivatives) named ``sigmoid_*.md``; they have ten variants, so beyond ten they
repeat (marked ``"repeat": true`` in the manifest).

Every softmax submission is distinct in its mathematics, not only in its prose: one whose displayed
formulas repeat an earlier submission's is drawn again (the benchmarks must not time a cache
hit as a new student). Everything is a function of the seed. ``OUTDIR/manifest.json`` records, per file, the
problem, the style, the planted mistakes, the verdict a careful TA would give each part
(correct, correct-up-to-layout, incorrect, unparseable, missing) and the lines of the
planted wrong steps.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

PARTS = ("dJ/dz3", "dJt/dW2", "dJt/dW1", "dJ/db1", "dJ/db2")

# (mistake, parts it can hit, the verdict it earns)
MISTAKES = [
    ("sign", ("dJ/dz3", "dJt/dW2", "dJ/db2", "dJ/db1"), "incorrect"),
    ("missing-1/N", PARTS, "incorrect"),
    ("lambda-not-2lambda", ("dJt/dW2", "dJt/dW1"), "incorrect"),
    ("missing-regularisation", ("dJt/dW2", "dJt/dW1"), "incorrect"),
    ("regularisation-wrong-weight", ("dJt/dW2", "dJt/dW1"), "incorrect"),
    ("missing-relu-derivative", ("dJt/dW1", "dJ/db1"), "incorrect"),
    ("missing-transpose", ("dJt/dW2", "dJt/dW1"), "correct-up-to-layout"),
    ("garbled", PARTS, "unparseable"),
    ("omitted", PARTS, "missing"),
]
VERDICT = {name: verdict for name, _, verdict in MISTAKES}

UNICODE = [
    (r"\psi", "ψ"),
    (r"\Delta", "Δ"),
    (r"\lambda", "λ"),
    (r"\odot", "⊙"),
    (r"\circ", "∘"),
    (r"\partial", "∂"),
    (r"\phi", "φ"),
    (" - ", " − "),
]
GARBAGE = [r"\frac{1}{N} ( \psi ^^ ) @@ #", r"\frac{1}{N}\big) \Delta \sqrt{ + }", r"1/N (\psi -- ?? %% }{"]
HEADERS = [
    "Question 2 of Assignment 1",
    "Homework 2 -- backpropagation",
    "ML HW1, problem 2",
    "Assignment 1\n\nXXXX\n\nOctober 2021",
    "Deep Learning -- written part",
]
PROSE = [
    "Using the chain rule:",
    "By the chain rule,",
    "Therefore",
    "so",
    "Plugging in the values,",
    "Since softmax and cross-entropy combine nicely,",
    "Now for the regularised loss:",
    "where $\\Delta$ is the one-hot label matrix.",
    "Similarly",
    "(putting results in matrix form)",
]
LABEL_STYLES = ["({})", "{})", "**({})**", "Part ({}):", "2 {})", "Q2({})"]


@dataclass
class Style:
    layout: str  # columns | rows | sample
    unicode: bool
    layer: str  # paren | bracket | bare
    transpose: str  # T | top | mathsf | prime | unicode
    output: str  # psi | softmax | A
    labels: str  # Delta | Y
    hadamard: str  # odot | circ | star
    relu: str  # indicator | subscript | phi | relu
    ones: str
    presentation: str  # oneline | aligned | lines
    left_right: bool
    spaces: bool
    w_ocr: bool  # W(2)^T for the transposed weight

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Submission:
    lines: list[str] = field(default_factory=list)
    wrong_steps: list[int] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        for text in lines:
            self.lines.extend(text.split("\n"))
            self.lines.append("")

    def add_block(self, rows: list[str], wrong_rows: set[int]) -> None:
        """rows of one display; remember the 1-based file lines of the wrong ones."""
        for i, row in enumerate(rows):
            if i in wrong_rows:
                self.wrong_steps.append(len(self.lines) + 1)
            self.lines.append(row)
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------- notation


class Notation:
    def __init__(self, st: Style, rng: random.Random):
        self.st, self.rng = st, rng
        self.batch = st.layout != "sample"

    def sup(self, k) -> str:
        return {"paren": f"^{{({k})}}", "bracket": f"^{{[{k}]}}", "bare": f"^{{{k}}}"}[self.st.layer]

    def sym(self, name: str, k) -> str:
        if name in ("Z", "A") and not self.batch:
            name = name.lower()
        return f"{name}{self.sup(k)}"

    def T(self, s: str, *, group: bool = False, weight_k=None) -> str:
        """The transpose of a symbol (with its layer superscript) or of a parenthesised group."""
        st = self.st
        if weight_k is not None and st.w_ocr and not st.unicode:
            return f"W({weight_k})^T"
        if st.transpose == "unicode":
            return f"{s}ᵀ"
        mark = {"T": "T", "top": r"\top", "mathsf": r"\mathsf{T}", "prime": "'"}[st.transpose]
        if not group and st.layer != "bare" and "^{" in s:  # A^{(2)T}, A^{[2]\top}, A^{(2)'}
            return s[:-1] + (mark if mark in ("T", "'") else " " + mark) + "}"
        base = s if group or "^" not in s else f"({s})"  # (A^{2})^T, (…)^T, x^T
        return base + ("'" if mark == "'" else f"^{{{mark}}}")

    def paren(self, inner: str) -> str:
        return rf"\left({inner}\right)" if self.st.left_right else f"({inner})"

    def out(self) -> str:
        z3 = self.sym("Z", 3)
        return {"psi": rf"\psi({z3})", "softmax": rf"\mathrm{{softmax}}({z3})", "A": self.sym("A", 3)}[self.st.output]

    def labels(self) -> str:
        if self.st.labels == "Y":
            return "Y" if self.batch else "y"
        return r"\Delta"

    def had(self) -> str:
        return {"odot": r"\odot", "circ": r"\circ", "star": "*"}[self.st.hadamard]

    def relu(self) -> str:
        z2 = self.sym("Z", 2)
        return {
            "indicator": rf"\mathbb{{1}}[{z2} > 0]",
            "subscript": rf"1_{{\{{{z2} > 0\}}}}",
            "phi": rf"\phi'({z2})",
            "relu": rf"\mathrm{{ReLU}}'({z2})",
        }[self.st.relu]

    def x(self) -> str:
        if self.rng.random() < 0.5:
            return "X" if self.batch else "x"
        return self.sym("A", 1)

    def d(self, of: str, wrt: str) -> str:
        return rf"\frac{{\partial {of}}}{{\partial {wrt}}}"


# ---------------------------------------------------------------------------- the answers


def closed_forms(n: Notation, mistakes: dict[str, str]) -> dict[str, str]:
    """The final closed form of each part under the style, with the planted mistakes."""
    st = n.st
    W1, W2 = "W" + n.sup(1), "W" + n.sup(2)
    A2, X = n.sym("A", 2), n.x()
    ones = st.ones
    out = {}
    for q in PARTS:
        m = mistakes.get(q)
        E = n.paren(f"{n.labels()} - {n.out()}" if m == "sign" else f"{n.out()} - {n.labels()}")
        S = "" if m == "missing-1/N" else r"\frac{1}{N}"
        reg_w = {"dJt/dW2": W2, "dJt/dW1": W1}.get(q, "")
        if m == "regularisation-wrong-weight":
            reg_w = W1 if q == "dJt/dW2" else W2
        reg = {"lambda-not-2lambda": rf" + \lambda {reg_w}", "missing-regularisation": ""}.get(
            m, rf" + 2\lambda {reg_w}"
        )
        R = "" if m == "missing-relu-derivative" else f" {n.had()} {n.relu()}"
        lay = m == "missing-transpose"
        W2T = n.T(W2, weight_k=2)
        if st.layout == "columns":
            forms = {
                "dJ/dz3": f"{S}{E}",
                "dJt/dW2": f"{S}{E} {A2 if lay else n.T(A2)}{reg}",
                "dJ/db2": rf"{S}{E}{ones}",
                "dJt/dW1": f"{n.paren(f'{S} {W2T}{E}{R}')} {X if lay else n.T(X)}{reg}",
                "dJ/db1": f"{n.paren(f'{S} {W2T}{E}{R}')}{ones}",
            }
        elif st.layout == "rows":
            inner = n.paren(f"{E} {W2}{R}")
            forms = {
                "dJ/dz3": f"{S}{E}",
                "dJt/dW2": f"{S}{E if lay else n.T(E, group=True)} {A2}{reg}",
                "dJ/db2": f"{S}{n.T(E, group=True)} {ones}",
                "dJt/dW1": f"{S}{inner if lay else n.T(inner, group=True)} {X}{reg}",
                "dJ/db1": f"{S}{n.T(inner, group=True)} {ones}",
            }
        else:
            forms = {
                "dJ/dz3": f"{S}{E}",
                "dJt/dW2": f"{S}{E} {A2 if lay else n.T(A2)}{reg}",
                "dJ/db2": f"{S}{E}",
                "dJt/dW1": f"{S}{n.paren(f'{W2T}{E}{R}')} {X if lay else n.T(X)}{reg}",
                "dJ/db1": f"{S} {W2T}{E}{R}",
            }
        out[q] = forms[q]
    return out


def chain_rule(n: Notation, q: str) -> str:
    """A chain-rule line with ∂ factors; it always includes a derivative with respect to the
    part's own parameter, as students write it."""
    z3, a3, z2, a2 = n.sym("Z", 3), n.sym("A", 3), n.sym("Z", 2), n.sym("A", 2)
    W1, W2, b1, b2 = "W" + n.sup(1), "W" + n.sup(2), "b" + n.sup(1), "b" + n.sup(2)
    return {
        "dJ/dz3": n.d("J", a3) + " " + n.d(a3, z3),
        "dJt/dW2": n.d("J", z3) + " " + n.d(z3, W2) + rf" + \frac{{\partial}}{{\partial {W2}}} \lambda \|{W2}\|_F^2",
        "dJ/db2": n.d("J", z3) + " " + n.d(z3, b2),
        "dJt/dW1": n.d("J", z2) + " " + n.d(z2, W1) + rf" + 2\lambda {W1}",
        "dJ/db1": " ".join([n.d("J", z3), n.d(z3, a2), n.d(a2, z2), n.d(z2, b1)]),
    }[q]


def lhs(n: Notation, q: str) -> str:
    return {
        "dJ/dz3": n.d("J", n.sym("Z", 3)),
        "dJt/dW2": n.d(r"\tilde{J}", "W" + n.sup(2)),
        "dJt/dW1": n.d(r"\tilde{J}", "W" + n.sup(1)),
        "dJ/db1": n.d("J", "b" + n.sup(1)),
        "dJ/db2": n.d("J", "b" + n.sup(2)),
    }[q]


def wrong_step(n: Notation, q: str) -> str:
    """A wrong closed form to plant in the middle of a chain."""
    if q == "dJ/dz3":
        return rf"\frac{{1}}{{N}}({n.out()} - 1)"
    return closed_forms(n, {q: "sign"})[q]


# ---------------------------------------------------------------------------- noise


def ocr(text: str, st: Style, rng: random.Random) -> str:
    if st.unicode:
        for a, b in UNICODE:
            text = text.replace(a, b)
    if st.spaces:
        text = re.sub(r" ([=+\-−]) ", lambda m: "  " + m.group(1) + " " * rng.choice((1, 2, 3)), text)
    return text


def drop_last_paren(text: str, rng: random.Random) -> str:
    """OCR loses the final ) of a formula that ends with one."""
    keep = not text.endswith(")") or text.endswith(r"\right)")
    return text if keep or rng.random() < 0.5 else text[:-1]


# ---------------------------------------------------------------------------- one submission


def softmax_submission(rng: random.Random) -> tuple[str, dict]:
    st = Style(
        layout=rng.choice(("columns", "columns", "rows", "sample")),
        unicode=rng.random() < 0.35,
        layer=rng.choice(("paren", "paren", "bracket", "bare")),
        transpose="",
        output=rng.choice(("psi", "psi", "softmax", "A")),
        labels=rng.choice(("Delta", "Delta", "Y")),
        hadamard=rng.choice(("odot", "circ", "star")),
        relu=rng.choice(("indicator", "subscript", "phi", "relu")),
        ones=rng.choice((r"\mathbf{1}_N", r"\mathbf{1}")),
        presentation=rng.choice(("oneline", "aligned", "lines")),
        left_right=rng.random() < 0.3,
        spaces=rng.random() < 0.4,
        w_ocr=False,
    )
    st.transpose = "unicode" if st.unicode and rng.random() < 0.6 else rng.choice(("T", "top", "mathsf", "prime"))
    st.w_ocr = st.layer == "paren" and not st.unicode and rng.random() < 0.3
    n = Notation(st, rng)

    mistakes: dict[str, str] = {}
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
        name, parts, _ = rng.choice(MISTAKES)
        q = rng.choice(parts)
        if q not in mistakes:
            mistakes[q] = name
    wrong_step_parts = {q for q in PARTS if mistakes.get(q) not in ("omitted", "garbled") and rng.random() < 0.12}
    forms = closed_forms(n, mistakes)

    sub = Submission()
    sub.add(rng.choice(HEADERS))
    if rng.random() < 0.5:
        sub.add(
            {
                "columns": "Samples are the columns of $X$.",
                "rows": "I stack the samples as rows of $X$.",
                "sample": "One sample $x$ at a time (column vectors).",
            }[st.layout]
        )
    labels = dict(zip(PARTS, "abccc"))
    numbers = {"dJt/dW1": "1.", "dJ/db1": "2.", "dJ/db2": "3."}
    order = ["dJ/dz3", "dJt/dW2", "dJt/dW1", "dJ/db1", "dJ/db2"]
    if rng.random() < 0.3:
        order = ["dJ/dz3", "dJt/dW2", "dJ/db2", "dJt/dW1", "dJ/db1"]
    last_label = None
    for q in order:
        if labels[q] != last_label:
            sub.add(rng.choice(LABEL_STYLES).format(labels[q]))
            last_label = labels[q]
        if q in numbers and rng.random() < 0.3:
            sub.add(numbers[q])
        m = mistakes.get(q)
        if m == "omitted":
            if rng.random() < 0.5:
                sub.add("I ran out of time for this one.")
            continue
        if rng.random() < 0.4:
            sub.add(rng.choice(PROSE))
        final = rng.choice(GARBAGE) if m == "garbled" else forms[q]
        if m != "garbled" and q in ("dJ/dz3", "dJ/db2") and st.layout == "sample":
            final = drop_last_paren(final, rng)
        chain = []
        if rng.random() < 0.6:
            chain.append(chain_rule(n, q))
        planted = q in wrong_step_parts
        if planted:
            chain.append(wrong_step(n, q))
        chain.append(final)
        left = lhs(n, q)
        rows, wrong_rows = _present(
            st.presentation if len(chain) > 1 else rng.choice(("oneline", "lines")), left, chain, planted, rng
        )
        sub.add_block([ocr(r, st, rng) for r in rows], wrong_rows)
    expected = {q: VERDICT[mistakes[q]] if q in mistakes else "correct" for q in PARTS}
    meta = {
        "problem": "softmax-2layer",
        "style": st.as_dict(),
        "mistakes": {q: m for q, m in mistakes.items()},
        "expected": expected,
        "wrong_step_lines": sub.wrong_steps,
    }
    return sub.text(), meta


def _present(how: str, left: str, chain: list[str], planted: bool, rng: random.Random):
    """Rows of the display(s) for `left = chain[0] = chain[1] = …` and which rows hold the
    planted wrong step (the one before the final form)."""
    wrong_index = len(chain) - 2 if planted else None
    if how == "oneline" and not planted:
        return [f"$${left} = {' = '.join(chain)}$$"], set()
    if how == "aligned":
        rows = ["$$\\begin{aligned}"]
        for i, c in enumerate(chain):
            head = f"{left} &= " if i == 0 else "&= "
            rows.append(head + c + (r" \\" if i < len(chain) - 1 else ""))
        rows.append("\\end{aligned}$$")
        return rows, ({1 + wrong_index} if planted else set())
    # a display per line, each continuing with a leading =
    rows, wrong = [], set()
    for i, c in enumerate(chain):
        if rows:
            rows.append("")
        if i == wrong_index:
            wrong.add(len(rows))
        rows.append(f"$${left} = {c}$$" if i == 0 else f"$$= {c}$$")
    return rows, wrong


def sigmoid_submission(rng: random.Random) -> tuple[str, dict]:
    """The XNOR forward pass (maybe with an arithmetic slip) and the one-sample derivatives."""
    sub = Submission()
    sub.add(rng.choice(["Homework 3", "HW3 -- sigmoid network", "Problem 1"]))
    expected = {
        q: "correct" for q in ("z1", "a1", "z2", "yhat", "dL/dz2", "dL/dw2", "dL/db2", "dL/dz1", "dL/dW1", "dL/db1")
    }
    mistakes = {}
    slip = rng.random() < 0.4
    sub.add(
        r"$$z^{[1]} = W^{[1]} x + b^{[1]} = \begin{bmatrix} 20 & 20 \\ -20 & -20 \end{bmatrix}"
        r" \begin{bmatrix} -1 \\ -1 \end{bmatrix} + \begin{bmatrix} -30 \\ 10 \end{bmatrix}"
        r" = \begin{bmatrix} -70 \\ 50 \end{bmatrix}$$"
    )
    sub.add(r"$$a^{[1]} = \sigma(z^{[1]}) \approx \begin{bmatrix} 0 \\ 1 \end{bmatrix}$$")
    sub.add(r"$$z^{[2]} = w^{[2]} a^{[1]} + b^{[2]}$$")
    if slip:
        sub.add_block([r"$$= 20 \times 0 + 20 \times 1 - 10 = 30$$"], {0})
        mistakes["z2"] = "arithmetic"
        expected["z2"] = "incorrect"
        sub.add(r"$$\hat{y} = \sigma(30) \approx 1$$")
    else:
        sub.add(r"$$= 20 \times 0 + 20 \times 1 - 10 = 10$$")
        sub.add(r"$$\hat{y} = \sigma(10) \approx 1$$")
    forms = {
        "dL/dz2": r"a^{[2]} - y",
        "dL/dw2": r"(a^{[2]} - y) a^{[1]T}",
        "dL/db2": r"a^{[2]} - y",
        "dL/dz1": r"(a^{[2]} - y) w^{[2]T} \odot \mathbb{1}\{z^{[1]} > 0\}",
        "dL/dW1": r"\left((a^{[2]} - y) w^{[2]T} \odot \mathbb{1}\{z^{[1]} > 0\}\right) x^T",
        "dL/db1": r"(a^{[2]} - y) w^{[2]T} \odot \mathbb{1}\{z^{[1]} > 0\}",
    }
    bad = {
        "dL/dz2": (r"y - a^{[2]}", "sign"),
        "dL/dw2": (r"(a^{[2]} - y) a^{[1]}", "missing-transpose"),
        "dL/dW1": (r"(a^{[2]} - y) w^{[2]T} x^T", "missing-relu-derivative"),
        "dL/db1": (r"(a^{[2]} - y) w^{[2]T}", "missing-relu-derivative"),
    }
    if rng.random() < 0.6:
        q = rng.choice(sorted(bad))
        forms[q], mistakes[q] = bad[q]
        expected[q] = VERDICT[mistakes[q]]
    lhs_of = {
        "dL/dz2": "z^{[2]}",
        "dL/dw2": "w^{[2]}",
        "dL/db2": "b^{[2]}",
        "dL/dz1": "z^{[1]}",
        "dL/dW1": "W^{[1]}",
        "dL/db1": "b^{[1]}",
    }
    for q, form in forms.items():
        sub.add(rf"$$\frac{{\partial L}}{{\partial {lhs_of[q]}}} = {form}$$")
    meta = {
        "problem": "sigmoid-bce-1hidden",
        "mistakes": mistakes,
        "expected": expected,
        "wrong_step_lines": sub.wrong_steps,
    }
    return sub.text(), meta


DISPLAY = re.compile(r"\$\$.*?\$\$", re.S)
MAX_DRAWS = 1000  # redraws for one distinct submission before giving up


def mathematics(text: str) -> tuple[str, ...]:
    """What grading reads of a submission: its displayed formulas, in order."""
    return tuple(DISPLAY.findall(text))


def distinct(draw, rng: random.Random, seen: set, required: bool = True) -> tuple[str, dict]:
    """A submission from draw(rng) whose mathematics no earlier one has (if not required and
    there is none left, a repeat, marked so in its metadata)."""
    for _ in range(MAX_DRAWS):
        text, meta = draw(rng)
        if mathematics(text) not in seen:
            seen.add(mathematics(text))
            return text, meta
    if not required:
        return text, {**meta, "repeat": True}
    raise SystemExit(f"make_class: no new distinct submission in {MAX_DRAWS} draws (after {len(seen)})")


def make_class(n: int, outdir: Path, seed: int = 0, sigmoid: int = 0) -> dict:
    """Write the submissions (each distinct) and manifest.json; return the manifest."""
    outdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    manifest, seen = {}, set()
    for i in range(n):
        text, meta = distinct(softmax_submission, rng, seen)
        name = f"softmax_{i:03d}.md"
        (outdir / name).write_text(text, encoding="utf-8")
        manifest[name] = meta
    for i in range(sigmoid):
        # the XNOR submissions have ten variants: only the softmax ones are all distinct
        text, meta = distinct(sigmoid_submission, rng, seen, required=False)
        name = f"sigmoid_{i:03d}.md"
        (outdir / name).write_text(text, encoding="utf-8")
        manifest[name] = meta
    (outdir / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="number of softmax-2layer submissions")
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sigmoid", type=int, default=0, metavar="M", help="also write M sigmoid-bce-1hidden submissions")
    args = ap.parse_args(argv)
    manifest = make_class(args.n, args.outdir, args.seed, args.sigmoid)
    mistakes = sum(len(m["mistakes"]) for m in manifest.values())
    print(f"wrote {len(manifest)} submissions ({mistakes} planted mistakes) and manifest.json to {args.outdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
