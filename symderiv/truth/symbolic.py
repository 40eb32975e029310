"""Ground truth, symbolically: explicit small matrices of symbols, differentiated entry by entry.

Never MatrixSymbol.diff (it returns 0 for sums of traces and norms): the loss is
written out component by component (one-hot labels as real one-hot columns,
ReLU as z·s with a 0/1 symbol s per entry) and SymPy differentiates it with
respect to each entry. The claim is evaluated on the same matrices and the
difference is simplified to 0 entry by entry. Runs in a worker process under a
time limit (limits.py).
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from symderiv.core.tree import Deriv, Node, Sym
from symderiv.truth.evaluate import Env, SympyBackend
from symderiv.truth.interpret import Interpreter, Ref
from symderiv.truth.model_symbolic import model_setup
from symderiv.truth.pointvalue import Unsupported, value_at
from symderiv.truth.problem import OBJECTIVES, Problem, Quantity
from symderiv.truth.reference import student_weight, target_ref


@lru_cache(maxsize=1)
def sympy_backend() -> SympyBackend:
    return SympyBackend()


def _matrix(name, rows, cols):
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def canonical(expr):
    """Derivatives of undefined functions in one spelling: g1'(u) -> g1_d0(u), ∂C/∂a_j -> C_dj(a...).
    SymPy writes the same derivative as Derivative or Subs depending on how it arose."""

    def name(f, positions):
        return sp.Function(f"{f.func.__name__}_d{''.join(map(str, positions))}")

    def positions(f, variables):
        out = []
        for v, count in variables:
            if v not in f.args:
                return None
            out.extend([f.args.index(v)] * count)
        return sorted(out)

    def rewrite(node):
        if isinstance(node, sp.Subs) and not node.expr.has(sp.Derivative):
            return node.expr.xreplace(dict(zip(node.variables, node.point)))
        if (
            isinstance(node, sp.Subs)
            and isinstance(node.expr, sp.Derivative)
            and isinstance(node.expr.expr, AppliedUndef)
        ):
            f = node.expr.expr
            pos = positions(f, node.expr.variable_count)
            if pos is not None:
                subs = dict(zip(node.variables, node.point))
                return name(f, pos)(*[a.xreplace(subs) for a in f.args])
        if isinstance(node, sp.Derivative) and isinstance(node.expr, AppliedUndef):
            pos = positions(node.expr, node.variable_count)
            if pos is not None:
                return name(node.expr, pos)(*node.expr.args)
        return node

    previous = None
    while previous != expr:
        previous = expr
        expr = expr.replace(lambda n: isinstance(n, (sp.Subs, sp.Derivative)), rewrite)
    return expr


class SymbolicNetwork:
    """The declared network on symbol matrices, in the columns layout."""

    def __init__(self, problem: Problem, n_samples: int, averaged: bool, regularised: bool):
        sizes = dict(problem.symbolic_sizes)
        self.net = net = problem.network(sizes)
        self.depth = net.depth
        self.X = _matrix("x", net.input_size, n_samples)
        self.W = {k: _matrix(f"w{k}", net.size(k), net.size(k - 1)) for k in range(1, net.depth + 1)}
        self.b = {k: _matrix(f"b{k}", net.size(k), 1) for k in range(1, net.depth + 1)}
        self.S = {
            k: _matrix(f"s{k}", net.size(k), n_samples)
            for k in range(1, net.depth + 1)
            if net.layers[k - 1].activation == "relu"
        }
        n_out = net.layers[-1].size
        if net.loss == "cross-entropy":
            self.Y = sp.zeros(n_out, n_samples)
            for j in range(n_samples):
                self.Y[(2 * j + 1) % n_out, j] = 1
        else:
            self.Y = _matrix("y", n_out, n_samples)
        self.N = sp.Symbol("N", positive=True) if n_samples == 1 else sp.Integer(n_samples)
        self.scale = 1 / self.N if averaged else sp.Integer(1)
        self.lam = sp.Symbol("lambda", positive=True)
        self.regularised = regularised
        self.reg_scale = sp.Rational(1, 2) if problem.regulariser == "lambda/2" else sp.Integer(1)
        self.n_samples = n_samples
        self.generic = problem.generic_symbolic
        self.Z, self.A = {}, {0: self.X}
        self.gradients: dict[Ref, sp.Matrix] = {}
        self.J = self.run(0, self.X)

    def act(self, k, Z):
        if self.generic:
            return sympy_backend().elementwise(f"generic:{k}", Z, None)
        name = self.net.layers[k - 1].activation
        if name == "relu":
            return Z.multiply_elementwise(self.S[k])
        if name == "softmax":
            return sympy_backend().softmax(Z, 0)
        return sympy_backend().elementwise(name, Z, None) if name != "identity" else Z

    def run(self, level, value, pre=False):
        """J from a given A_level (or Z_level when pre): records Z and A on the first run."""
        A = value if not pre else self.act(level, value)
        record = not self.Z
        if record and pre:
            raise ValueError("first run starts at the input")
        for k in range(level + 1, self.depth + 1):
            Z = self.W[k] * A + self.b[k] * sp.ones(1, self.n_samples)
            A = self.act(k, Z)
            if record:
                self.Z[k], self.A[k] = Z, A
        L = self.depth
        if level == L:
            ZL = value if pre else self.Z.get(L)
        else:
            ZL = self.Z[L] if record else Z
        total = 0
        loss = self.net.loss
        for j in range(self.n_samples):
            a = A[:, j]
            if loss == "cross-entropy":
                z = ZL[:, j]
                total += -sum(self.Y[c, j] * (z[c] - sp.log(sum(sp.exp(t) for t in z))) for c in range(len(z)))
            elif loss == "bce":
                total += -sum(
                    self.Y[c, j] * sp.log(a[c]) + (1 - self.Y[c, j]) * sp.log(1 - a[c]) for c in range(len(a))
                )
            elif self.generic:
                total += sp.Function("C")(*list(a))
            elif loss == "mse":
                total += sum((a[c] - self.Y[c, j]) ** 2 for c in range(len(a))) / 2
            else:
                total += sum(sp.log(1 + (a[c] - self.Y[c, j]) ** 2) + a[c] ** 3 / 3 for c in range(len(a)))
        J = self.scale * total
        if self.regularised:
            J += self.reg_scale * self.lam * sum(sum(w**2 for w in W) for W in self.W.values())
        return J

    def gradient(self, ref: Ref):
        """Memoised: the quantities of a key and the δ atoms of its claims share one network."""
        if ref not in self.gradients:
            g = self._gradient(ref)
            self.gradients[ref] = g.applyfunc(canonical) if self.generic else g
        return self.gradients[ref]

    def _gradient(self, ref: Ref):
        if ref.kind in ("W", "b"):
            M = (self.W if ref.kind == "W" else self.b)[ref.layer]
            return M.applyfunc(lambda s: sp.diff(self.J, s))
        if ref.kind == "X":
            return self.X.applyfunc(lambda s: sp.diff(self.J, s))
        level = ref.layer
        actual = self.Z[level] if ref.kind in ("Z", "dZ") else self.A[level]
        fresh = _matrix("t", *actual.shape)
        J = self.run(level, fresh, pre=ref.kind in ("Z", "dZ"))
        subs = dict(zip(list(fresh), list(actual)))
        tidy = canonical if self.generic else (lambda e: e)
        return fresh.applyfunc(lambda s: tidy(sp.diff(J, s)).xreplace(subs))

    def jacobian(self, ref: Ref, at):
        """∂A_k/∂Z_k for one sample, at the column of symbols `at` standing for Z_k."""
        A = self.act(ref.layer, at)
        return sp.Matrix(A.shape[0], at.shape[0], lambda i, j: sp.diff(A[i], at[j]))


@lru_cache(maxsize=32)
def symbolic_network(problem: Problem, n_samples: int, averaged: bool, regularised: bool) -> SymbolicNetwork:
    return SymbolicNetwork(problem, n_samples, averaged, regularised)


@lru_cache(maxsize=64)
def symbolic_setup(problem: Problem, quantity: Quantity, reading: str, bindings_items: tuple):
    if problem.model is not None:
        return model_setup(problem, quantity, reading, bindings_items)
    bindings = dict(bindings_items)
    averaged, regularised = OBJECTIVES.get(quantity.of, (False, False))
    regularised = regularised and problem.regulariser is not None  # regulariser = false: none in the truth either
    n_samples = 1 if reading == "single" else dict(problem.symbolic_sizes).get("N", 2)
    net = symbolic_network(problem, n_samples, averaged, regularised)
    ref = target_ref(problem, quantity, bindings)
    flip = (lambda M: M.T) if reading == "rows" else (lambda M: M)
    if quantity.kind == "jacobian":
        free = _matrix("zeta", *net.Z[ref.layer].shape)  # ∂a/∂z depends on z alone
        reference = net.jacobian(ref, free)
    else:
        g = net.gradient(ref)
        reference = student_weight(problem, g) if ref.kind == "W" else g if ref.kind == "b" else flip(g)
    objects = {
        Ref("X"): flip(net.X),
        Ref("Y"): flip(net.Y),
        Ref("N"): sp.Matrix([[net.N]]),
        Ref("lambda"): sp.Matrix([[net.lam]]),
    }
    for k in range(1, net.depth + 1):
        objects.update(
            {
                Ref("W", k): student_weight(problem, net.W[k]),
                Ref("b", k): net.b[k],
                Ref("Z", k): flip(net.Z[k]),
                Ref("A", k): flip(net.A[k]),
            }
        )
    masks = {}
    for k, S in net.S.items():
        masks.update({z: s for z, s in zip(list(net.Z[k]), list(S))})
    if quantity.kind == "jacobian":
        objects[Ref("Z", ref.layer)], objects[Ref("A", ref.layer)] = flip(free), flip(net.act(ref.layer, free))
    env = Env(
        backend=sympy_backend(),
        interp=Interpreter(problem, bindings),
        objects=objects,
        activations={
            k: f"generic:{k}" if net.generic else net.net.layers[k - 1].activation for k in range(1, net.depth + 1)
        },
        reading=reading,
        weight_layout=problem.notation.weight_layout,
        masks=masks,
        allow_cost_derivative=problem.loss == "generic",
    )
    return net, env, reference, flip


def add_deltas(net, env, tree: Node, flip):
    """δ^(l) and ∂C/∂a atoms, computed only when the claim uses them."""
    if getattr(net, "is_model", False):
        return
    for n in tree.walk():
        if isinstance(n, Sym) and n.name == "delta" and n.layer is not None:
            ref = env.interp.resolve(n)
            if ref.kind == "dZ" and ref not in env.objects:
                env.objects[ref] = flip(net.gradient(Ref("Z", ref.layer)))
        if isinstance(n, Deriv) and isinstance(n.wrt, Sym):
            ref = env.interp.resolve(n.wrt)
            key = Ref("d" + ref.kind, ref.layer)
            if ref.kind == "A" and key not in env.objects:
                env.objects[key] = flip(net.gradient(Ref("A", ref.layer)))


def _canonical_atoms(expr):
    """exp(u) -> E, exp(-u) -> 1/E, exp(2u) -> E², tanh(u) -> T, tanh(-u) -> -T: the difference
    becomes rational (an integer multiple of an exponent is a power of the same symbol)."""
    mapping, symbols = {}, {}
    for atom in sorted(atoms_of(expr, sp.exp, sp.tanh), key=sp.default_sort_key):
        arg = atom.args[0]
        coeff, base = arg.as_coeff_Mul() if atom.func == sp.exp else (sp.Integer(1), arg)
        if not coeff.is_Integer:
            coeff, base = sp.Integer(1), arg
        neg = base.could_extract_minus_sign()
        if neg:
            coeff, base = -coeff, -base
        key = (atom.func, base)
        if key not in symbols:
            symbols[key] = sp.Symbol(f"E{len(symbols)}", positive=True)
        s = symbols[key]
        if atom.func == sp.exp:
            mapping[atom] = s**coeff
        else:
            mapping[atom] = -s if neg else s
    return expr.xreplace(mapping)


NONZERO = 1e-12  # |claim − truth| at a rational point (30 digits) above this: not identically 0


def witness(expr, points: int = 4) -> complex | None:
    """The expression's value at the first of a few fixed random rational points where it is not
    0 (all symbols; 0/1 for the mask symbols, which stand for indicators), else at the last, or
    None. One point can hide a difference (a mask symbol 0 there zeroes the entry); a few rarely
    do: the mask symbols are all 1 at the first, all 0 at the second, random after that. Evaluated in mpmath at 30 digits over the expression's DAG (pointvalue.py; lambdify,
    which prints the whole tree first, compiled once for what that does not know)."""
    rng = random.Random(7)
    free = sorted(expr.free_symbols, key=str)
    value, compiled = None, None
    try:
        for attempt in range(points):
            # the masks all 1, then all 0, then at random: each sign pattern of the kinks is a case
            point = [
                (1 if attempt == 0 else 0 if attempt == 1 else rng.randint(0, 1))
                if re.fullmatch(r"s\d+_\d+", s.name)
                else mpmath.mpf(rng.randint(1, 9)) / rng.randint(2, 11)
                for s in free
            ]
            with mpmath.workdps(30):
                try:
                    value = complex(value_at(expr, dict(zip(free, point))))
                except Unsupported:
                    compiled = compiled or sp.lambdify(free, expr, "mpmath")
                    value = complex(compiled(*point))
            if abs(value) > NONZERO:
                return value
    except (TypeError, ValueError, ZeroDivisionError, NameError, SyntaxError, RecursionError):
        return value
    return value


def _nonzero_somewhere(expr) -> bool:
    """True when the expression is clearly non-zero at a rational point (so not identically 0)."""
    value = witness(expr)
    return value is not None and abs(value) > NONZERO


def atoms_of(expr, *types) -> set:
    """expr.atoms(*types), visiting a shared subexpression once: the truth of a deep network
    repeats the same subtrees many times, and a tree walk would visit each copy."""
    found, seen, stack = set(), set(), [expr]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, types):
            found.add(node)
        stack.extend(node.args)
    return found


def _idempotent_masks(expr):
    """s^k = s for the 0/1 symbols that stand for 1[z > 0]."""
    powers = {
        p: p.base
        for p in atoms_of(expr, sp.Pow)
        if p.base.is_Symbol and re.fullmatch(r"s\d+_\d+", p.base.name) and p.exp.is_Integer and p.exp > 0
    }
    return expr.xreplace(powers) if powers else expr


def is_zero(expr, generic: bool = False) -> bool:
    """Whether claim − truth is identically 0, by the cheapest decisive test first: expanding
    decides most equal entries in milliseconds (claim and truth are built on the same symbols),
    a rational point decides most different ones; cancelling and simplify are the last resort."""
    expr = _idempotent_masks(sp.sympify(expr))
    if expr == 0:
        return True
    if generic:
        # each application of an undefined function becomes one symbol: what is left is a polynomial
        if atoms_of(expr, sp.Subs, sp.Derivative):
            expr = canonical(expr)
        atoms = {a: sp.Dummy() for a in atoms_of(expr, AppliedUndef)}
        return sp.expand(expr.xreplace(atoms)) == 0
    rational = _canonical_atoms(expr)
    if _idempotent_masks(sp.expand(rational)) == 0:
        return True
    if _nonzero_somewhere(expr):  # milliseconds over the DAG; cancelling a wrong entry can take seconds
        return False
    if _cancels(expr):
        return True
    if sp.cancel(sp.together(rational)) == 0:
        return True
    return sp.simplify(expr) == 0


def _cancels(expr) -> bool:
    """claim − truth is 0 as a rational function once exp/tanh atoms are symbols; the 0/1 masks
    (s² = s) reduced in the expanded numerator."""
    for form in (expr, sp.expand_power_exp(expr)):  # SymPy writes exp(a)/exp(b) as exp(a − b): split it
        together = sp.together(_canonical_atoms(form))
        if sp.cancel(together) == 0:
            return True
        numerator = sp.expand(sp.fraction(together)[0])
        if sp.expand(_idempotent_masks(numerator)) == 0:
            return True
    return False
