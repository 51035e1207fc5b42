"""Private helpers shared by ckv's subpackages."""
