"""Argument types shared by several commands."""

import argparse

ON_OFF = {"on": True, "off": False, "true": True, "false": False}


def on_off(value: str) -> bool:
    try:
        return ON_OFF[value.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"expected on or off, found {value!r}") from None
