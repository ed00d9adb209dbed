# expect:
# conventions:
def loss(v, y):
    total = 0.0
    for n in range(len(v)):               # one row per sample
        total += ((v[n] - y[n]) ** 2).sum()
    return total / len(v)
