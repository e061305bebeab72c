"""The liaison bot: a county procuratorate's chat bot for people's congress deputies and CPPCC members."""
