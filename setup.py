# Copyright (c) interwild_mm contributors.
"""Install interwild_mm (use ``make setup``; see README.md / DEVELOPERS.md).

``pip install -e .`` installs the package and its pure-Python runtime
dependencies (requirements/runtime.txt). torch/torchvision, mmcv (built with
ops), mmdet and mmpose (``--no-deps``) are installed by tools/setup_env.sh,
because none of them can be resolved correctly by a plain ``pip install``.
"""
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    """Read ``__version__`` from interwild_mm/version.py without importing."""
    with open(osp.join(HERE, 'interwild_mm', 'version.py')) as f:
        match = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", f.read(),
                          re.M)
    if match is None:
        raise RuntimeError('interwild_mm/version.py defines no __version__')
    return match.group(1)


def parse_requirements(fname: str) -> list:
    """Requirement lines of a requirements/*.txt file (``-r`` files included;
    no comments or other options)."""
    reqs = []
    with open(osp.join(HERE, 'requirements', fname)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line.startswith('-r '):  # an included requirements file
                reqs += parse_requirements(line[3:].strip())
            elif line and not line.startswith('-'):
                reqs.append(line)
    return reqs


def readme() -> str:
    path = osp.join(HERE, 'README.md')
    if not osp.isfile(path):
        return ''
    with open(path, encoding='utf-8') as f:
        return f.read()


setup(
    name='interwild_mm',
    version=get_version(),
    description='InterWild (Moon, CVPR 2023) re-implemented as an OpenMMLab '
    '(mmengine/mmpose) plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    python_requires='>=3.11,<3.12',
    packages=find_packages(include=('interwild_mm', 'interwild_mm.*')),
    # Data files shipped inside the package (configs stay in the repository's
    # configs/ and are found by path; no mim-style interwild_mm/.mim copy).
    package_data={'interwild_mm': ['**/*.json', '**/*.npy', '**/*.npz',
                                   '**/*.txt']},
    include_package_data=True,
    install_requires=parse_requirements('runtime.txt'),
    extras_require={'tests': parse_requirements('tests.txt'),
                    'export': parse_requirements('export.txt')},
    zip_safe=False,
    classifiers=[
        'Programming Language :: Python :: 3.11',
        'Operating System :: POSIX :: Linux',
    ],
)
