"""The catalogue: every mistake code the checker can name, what it means, the wrong line and the right one.

The codes are a contract (graders and tests match them), so they never change spelling.  Each entry is
(check, meaning, wrong line, right line); the lines are written in the lab's column convention for one
sample x (2,), W (3, 2), M (2, 3), as a student types them in torch.  docs/check.md is this table in prose.
"""

MISTAKES = {
    # forward: v = M ReLU(W x + b) + c
    "no-bias": ("forward", "a bias is never added: u = W x, or v = M h (b or c left out)",
                "u = W @ x          # or v = M @ h", "u = W @ x + b      # and v = M @ h + c"),
    "bias-twice": ("forward", "a bias is added twice (b or c counted two times)",
                   "u = W @ x + b + b", "u = W @ x + b"),
    "no-relu": ("forward", "the hidden layer has no ReLU: h = u, so the network is only affine",
                "h = u", "h = torch.relu(u)"),
    "relu-on-output": ("forward", "a ReLU is applied to the outputs v (instead of, or besides, the hidden layer), "
                       "but v must stay raw: outputs can be negative",
                       "v = torch.relu(M @ h + c)", "v = M @ h + c"),
    "relu-before-first-layer": ("forward", "a ReLU is applied to the input x (instead of, or besides, to u); "
                                "the ReLU belongs after the first layer, h = ReLU(W x + b)",
                                "u = W @ torch.relu(x) + b", "h = torch.relu(W @ x + b)"),
    "softmax-on-output": ("forward", "softmax is applied to v inside the forward pass: the network returns "
                          "probabilities, but v are raw outputs (the loss applies softmax itself)",
                          "v = torch.softmax(M @ h + c, 0)", "v = M @ h + c"),
    "wrong-weight": ("forward", "a layer uses the other layer's weights (M where W belongs, or W where M belongs), "
                     "transposed so that the shapes fit", "u = M.T @ x + b", "u = W @ x + b"),
    "batch-unsupported": ("forward", "one sample works but a batch does not (an error, a wrong shape or other "
                          "numbers): the lab's batches are rows, X (N, 2), so u = W x + b reads U = X Wᵀ + b",
                          "u = W @ x + b      # x (2,) only", "U = X @ W.T + b    # X (N, 2), or x (2,)"),
    "bias-broadcast": ("forward", "a bias of shape (3,) is added to a column W x of shape (3, 1): broadcasting "
                       "makes a (3, 3) matrix, and the next layer fails; with x a column, make the biases columns too",
                       "u = W @ x + b      # x (2, 1), b (3,)", "u = W @ x + b.reshape(-1, 1)  # or keep x a vector"),
    # loss: L = (1/N) Σ_n ‖v_n − y_n‖²
    "mse-sum-not-mean": ("loss", "the squared errors are summed over the samples of a batch, not averaged",
                         "L = ((v - y) ** 2).sum()", "L = ((v - y) ** 2).sum() / len(v)"),
    "mse-not-squared": ("loss", "the errors are not squared: absolute values |v − y| are averaged",
                        "L = (v - y).abs().sum() / len(v)", "L = ((v - y) ** 2).sum() / len(v)"),
    "rmse-not-mse": ("loss", "a square root is taken: that is the RMSE (or the norm ‖v − y‖), not the MSE",
                     "L = torch.sqrt(((v - y) ** 2).sum() / len(v))", "L = ((v - y) ** 2).sum() / len(v)"),
    "ce-on-probabilities": ("loss", "cross-entropy is taken of probabilities: softmax applied twice (to v already "
                            "softmaxed) or not at all (log of the raw v, or v itself)",
                            "L = -torch.log(v[range(len(v)), y]).mean()",
                            "L = -torch.log_softmax(v, 1)[range(len(v)), y].mean()"),
    "ce-not-negated": ("loss", "the minus sign is missing: L = mean log p_y is ≤ 0 and SGD would make it worse",
                       "L = torch.log_softmax(v, 1)[range(len(v)), y].mean()",
                       "L = -torch.log_softmax(v, 1)[range(len(v)), y].mean()"),
    "ce-overflow": ("loss", "cross-entropy overflows on large logits: exp(v) without subtracting max v first "
                    "(inf / inf is NaN), or the log of a softmax (log 0 = −inf for a class far below the others)",
                    "L = -torch.log(torch.softmax(v, 1)[range(len(v)), y]).mean()",
                    "L = -torch.log_softmax(v, 1)[range(len(v)), y].mean()"),
    # regularization: s = ‖W‖²_F + ‖M‖²_F
    "reg-not-squared": ("regularization", "the norms are not squared: ‖W‖_F (or Σ|W_ij|) where ‖W‖²_F belongs",
                        "s = W.norm() + M.norm()", "s = (W ** 2).sum() + (M ** 2).sum()"),
    "reg-includes-biases": ("regularization", "the biases are regularized too; s covers the weights only",
                            "s = sum((p ** 2).sum() for p in (W, b, M, c))", "s = (W ** 2).sum() + (M ** 2).sum()"),
    "reg-only-first-layer": ("regularization", "only W is regularized; s = ‖W‖²_F + ‖M‖²_F covers both layers",
                             "s = (W ** 2).sum()", "s = (W ** 2).sum() + (M ** 2).sum()"),
    # gradients: the derivation, compared with autograd
    "grad-transposed": ("gradients", "a weight gradient is transposed: ∂J/∂W must have W's shape (3, 2), "
                        "δ_u xᵀ, not x δ_uᵀ", "dW = torch.outer(x, delta_u)", "dW = torch.outer(delta_u, x)"),
    "grad-factor-2": ("gradients", "the data term is off by a factor 2: ∂‖v − y‖²/∂v = 2 (v − y), the 2 left out "
                      "or counted twice", "delta_v = v - y", "delta_v = 2 * (v - y)"),
    "grad-missing-reg": ("gradients", "the weight gradients lack the λ term 2λW of J = L + λ s",
                         "dW = torch.outer(delta_u, x)", "dW = torch.outer(delta_u, x) + 2 * lam * W"),
    "grad-reg-not-doubled": ("gradients", "the λ term is λW, but ∂(λ‖W‖²_F)/∂W = 2λW",
                             "dW = torch.outer(delta_u, x) + lam * W", "dW = torch.outer(delta_u, x) + 2 * lam * W"),
    "grad-sign": ("gradients", "a gradient has the wrong sign: (y − v) where (v − y) belongs, or the whole "
                  "gradient negated", "delta_v = 2 * (y - v)", "delta_v = 2 * (v - y)"),
    "grad-relu-mask-missing": ("gradients", "the ReLU's mask is missing: δ_u = Mᵀ δ_v ⊙ 1[u > 0]; a unit that "
                               "is off passes nothing back", "delta_u = M.T @ delta_v",
                               "delta_u = (M.T @ delta_v) * (u > 0)"),
    "grad-bias-not-summed": ("gradients", "a batch's bias gradient is not summed over its samples (one row per "
                             "sample, or their mean)", "db = delta_U            # (N, 3)",
                             "db = delta_U.sum(0)      # (3,)"),
    # step: p ← p − lr ∂J/∂p, then zero the gradients
    "step-plus-sign": ("step", "the step goes up the gradient: p += lr · g climbs J", "p += lr * p.grad",
                       "p -= lr * p.grad"),
    "step-grads-not-zeroed": ("step", "the gradients are never zeroed, so the second backward() adds to the "
                              "first and the second step uses their sum", "p -= lr * p.grad",
                              "p -= lr * p.grad;  p.grad.zero_()"),
    "step-wrong-lr": ("step", "the step length is not lr · g: another learning rate (a number typed in, or lr "
                      "used twice)", "p -= 0.01 * p.grad", "p -= lr * p.grad"),
    "step-no-update": ("step", "the parameters never change: the update is missing (or its gradients were "
                       "zeroed before it)", "J.backward()       # and nothing after it",
                       "with torch.no_grad(): p -= lr * p.grad"),
    "step-rebinds": ("step", "the update makes a new tensor and binds a name to it, so the caller's tensor "
                     "never changes; update in place", "p = p - lr * p.grad", "p -= lr * p.grad"),
}

CONVENTIONS = {
    "row-convention": "samples as rows with weights stored (fan_in, fan_out): u = x W + b, W (2, 3), M (3, 2)",
    "batch-as-columns": "a batch given as the columns of X (2, N), outputs (2, N)",
    "one-hot-targets": "cross-entropy's targets as one-hot rows (N, K) rather than class indices",
    "mse-mean-over-outputs": "the squared errors averaged over the outputs too (L / K)",
    "half-mse": "the MSE halved (L / 2), so that its gradient is v − y",
    "half-reg": "the regularizer halved (s / 2), so that its gradient is λW",
    "reg-of-all-parameters": "the regularizer takes the parameter list [W, b, M, c]",
    "per-sample-gradients": "gradients written for one sample x (2,), as the lab derives them; a batch is not asked for",
}

# The checks in the order check.all runs them; each code belongs to one of them (reg-includes-biases is
# also seen in gradients and step, where a bias gradient gains 2λb).
CHECKS = ("forward", "loss", "regularization", "gradients", "step")


def codes(check=None):
    """The codes of one check (all codes when check is None), in catalogue order."""
    return [code for code, entry in MISTAKES.items() if check is None or entry[0] == check]


# Errors whose cause is a known slip: (words in the error, the one-line hint with the fix)
HINTS = [
    ("return_types.max", "torch.max(u, 0) is the largest entry along dimension 0 (and its index), not ReLU: "
                         "write torch.relu(u), or torch.clamp(u, min=0)"),
    ("leaf Variable that requires grad is being used in an in-place operation",
     "update the parameters inside `with torch.no_grad():` (p -= lr * p.grad), then p.grad.zero_()"),
]


def hint(message):
    """'; hint: ...' for an error message a known slip explains, else ''."""
    return "".join(f"; hint: {text}" for words, text in HINTS if words in message)


def advice(code):
    """Two lines a student can act on: the meaning, and the line to change."""
    _, meaning, wrong, right = MISTAKES[code]
    return f"{code}: {meaning}.\n    wrong: {wrong}\n    right: {right}"
