# expect: reg-includes-biases
# conventions: reg-of-all-parameters
def regularization(params):
    s = 0
    for p in params:
        s = s + (p ** 2).sum()
    return s
