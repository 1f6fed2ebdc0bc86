#!/usr/bin/env bash
# Placeholder until the fuzz targets land: builds nothing, runs nothing.
echo "fuzz: no targets yet"
