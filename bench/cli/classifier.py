"""`dcgan-bench classifier train|check`: the one way to train the instrument, and its check."""

import json
import shlex


def add(sub):
    p = sub.add_parser("classifier", help="train or check the MNIST/Fashion-MNIST instrument")
    verbs = p.add_subparsers(dest="verb", required=True)
    t = verbs.add_parser("train", help="train the instrument reproducibly (weights + model card)")
    t.add_argument("--data", required=True, help="mnist or fashion-mnist")
    t.add_argument("--data-dir", default=None, help="directory with the four IDX .gz files")
    t.add_argument("--out", required=True, help="directory for <data>.weights.h5 and its card")
    t.add_argument("--seed", type=int, default=0, help="seeds weights and shuffling")
    t.add_argument("--epochs", type=int, default=12, help="passes over the training set")
    c = verbs.add_parser("check", help="accuracy of the shipped instrument on the data at hand")
    c.add_argument("--data", default="mnist-5k", help="mnist-5k, mnist or fashion-mnist")
    c.add_argument("--data-dir", default=None, help="directory with the four IDX .gz files")


def run(args) -> int:
    if args.verb == "train":
        from bench.evaluate.training import train_classifier

        # The card records the command that made the weights, so anyone can make them again.
        command = shlex.join(["dcgan-bench", *args.argv])
        train_classifier(args.data, args.data_dir, args.out, seed=args.seed, epochs=args.epochs,
                         command=command)
        return 0
    from bench.evaluate.classifier import check_accuracy, load_classifier

    clf = load_classifier(args.data)
    accuracy = check_accuracy(args.data, args.data_dir, classifier=clf)
    print(json.dumps({"data": args.data, "accuracy": accuracy,
                      # mnist-5k's digits are MNIST training digits: the instrument has seen them
                      "held_out": args.data != "mnist-5k",
                      "card_test_accuracy": clf.card.get("test_accuracy"),
                      "classifier_sha256": clf.sha256}))
    return 0
