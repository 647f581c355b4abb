"""B-cubed precision, recall and F1, pooled over signatures (micro average)."""

from collections import Counter
from collections.abc import Callable, Hashable, Mapping


def bcubed[K: Hashable](
    predicted: Mapping[K, Hashable],
    truth: Mapping[K, Hashable],
    *,
    group: Callable[[K], Hashable] = lambda key: None,
) -> tuple[float, float, float]:
    """B-cubed (precision, recall, F1) over the keys of `truth`.

    Keys are signatures; values are cluster labels. `group(key)` names the block a key belongs
    to, so that clusters of different blocks never mix when labels repeat across blocks.
    A signature missing from `predicted` counts as a cluster of its own.
    """
    keys = list(truth)
    if not keys:
        return 0.0, 0.0, 0.0
    pred_label = {k: (group(k), predicted[k]) if k in predicted else ("__alone__", k) for k in keys}
    true_label = {k: (group(k), truth[k]) for k in keys}
    joint = Counter((pred_label[k], true_label[k]) for k in keys)
    pred_size = Counter(pred_label.values())
    true_size = Counter(true_label.values())
    precision = recall = 0.0
    for k in keys:
        both = joint[(pred_label[k], true_label[k])]
        precision += both / pred_size[pred_label[k]]
        recall += both / true_size[true_label[k]]
    precision /= len(keys)
    recall /= len(keys)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
