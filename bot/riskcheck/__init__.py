"""The risk check: red flags in a pasted pitch or a described situation (lexicon, numbers and yields, the
check itself, the replies it renders, and the measures on the labelled sets)."""
