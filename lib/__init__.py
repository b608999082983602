"""Portail Famille: the family portal of a French town's education service."""
