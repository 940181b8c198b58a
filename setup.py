"""Packaging for esm2_ab_clip: every field comes from settings.ini (the nbdev 2 convention)."""
from configparser import ConfigParser
from pathlib import Path
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read(Path(__file__).parent/'settings.ini', encoding='utf-8')
c = cfg['DEFAULT']

def _split(key): return c.get(key, '').split()

console_scripts = [s.strip() for s in c.get('console_scripts', '').split() if s.strip()]
readme = Path(__file__).parent/'README.md'

setuptools.setup(
    name=c['repo'], version=c['version'], description=c['description'],
    long_description=readme.read_text(encoding='utf-8') if readme.exists() else c['description'],
    long_description_content_type='text/markdown',
    author=c['author'], author_email=c['author_email'], license='Apache-2.0',
    url=c['git_url'], keywords=c['keywords'],
    classifiers=['Development Status :: 3 - Alpha', 'Intended Audience :: Science/Research',
                 'License :: OSI Approved :: Apache Software License',
                 'Programming Language :: Python :: 3.11', 'Topic :: Scientific/Engineering :: Bio-Informatics'],
    packages=setuptools.find_packages(include=[c['lib_name'], c['lib_name'] + '.*']),
    include_package_data=True, package_data={c['lib_name']: ['assays.tsv', 'assay_pins.tsv']},   # the assay registry and its files' pins (notebook 05)
    python_requires='>=' + c['min_python'],
    install_requires=_split('requirements'),
    extras_require={'dev': _split('dev_requirements')},
    entry_points={'console_scripts': console_scripts, 'nbdev': [f"{c['lib_name']}={c['lib_name']}._modidx:d"]},
    zip_safe=False,
)
