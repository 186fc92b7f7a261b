"""Small learned behaviour classifiers (fights, falls) and their synthetic training data."""
