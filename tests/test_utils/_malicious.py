# Copyright (c) interwild_mm contributors.
"""A checkpoint that runs code when an unrestricted unpickler reads it."""
from pathlib import Path
from typing import Union

import torch


class OpenPayload:
    """Unpickling it calls ``open(marker, 'w')``, i.e. creates the marker."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def write_malicious_checkpoint(path: Union[str, Path],
                               marker: Union[str, Path],
                               top_key: str = 'meta') -> None:
    """An mmengine-looking checkpoint whose ``top_key`` entry (pickled
    before any tensor) creates ``marker`` when unpickled without
    restrictions; ``state_dict`` / ``network`` hold one tensor."""
    torch.save(
        {
            top_key: dict(epoch=1, iter=1, extra=OpenPayload(str(marker))),
            'state_dict': {'w': torch.ones(2)},
            'network': {'w': torch.ones(2)},
        }, str(path))
