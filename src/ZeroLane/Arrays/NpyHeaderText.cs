using System.Globalization;

namespace ZeroLane.Arrays;

/// <summary>
/// Parses the header text of a .npy file: the Python dict literal NumPy writes, then optional comments,
/// one of which may carry ZeroLane's metadata.
/// </summary>
/// <remarks>
/// Design: a small recursive-descent parser for exactly the literals NumPy headers use (strings, True/False,
/// tuples of non-negative integers), so that nothing in the header is ever evaluated. Anything else is refused
/// with <see cref="MappedArrayFormatException"/>. A list where 'descr' belongs is a structured dtype: it is kept as
/// written (<see cref="Result.Structured"/>), for the caller to describe or refuse. A position in an error is a
/// character of the header text (what follows the prelude), counted from 1, with the text found there.
/// </remarks>
internal ref struct NpyHeaderText
{
    private readonly string _text;
    private readonly string _path;
    private int _position;

    private NpyHeaderText(string text, string path)
    {
        _text = text;
        _path = path;
        _position = 0;
    }

    /// <param name="Descr">The dtype descriptor; for a structured dtype, its list as written in the header.</param>
    /// <param name="Structured">Whether 'descr' is a structured dtype (a list of fields) rather than a string.</param>
    /// <param name="FortranOrder">The 'fortran_order' value.</param>
    /// <param name="Shape">The 'shape' tuple.</param>
    /// <param name="MetadataJson">ZeroLane's metadata comment after the dict, or null.</param>
    /// <param name="DictEnd">The position just after the dict's closing brace.</param>
    internal sealed record Result(string Descr, bool Structured, bool FortranOrder, long[] Shape, string? MetadataJson, int DictEnd);

    internal static Result Parse(string text, string path)
    {
        var parser = new NpyHeaderText(text, path);
        return parser.ParseHeader();
    }

    private Result ParseHeader()
    {
        if (_text.Length == 0 || _text[^1] != '\n')
        {
            throw Error("the header text does not end with a newline");
        }
        string? descr = null;
        bool structured = false;
        bool? fortranOrder = null;
        long[]? shape = null;

        SkipWhitespace();
        Expect('{');
        while (true)
        {
            SkipWhitespace();
            if (Peek() == '}')
            {
                _position++;
                break;
            }
            string key = ParseString();
            SkipWhitespace();
            Expect(':');
            SkipWhitespace();
            switch (key)
            {
                case "descr" when descr is null:
                    structured = Peek() is '[' or '(' or '{';
                    descr = structured ? RawValue() : ParseString();
                    break;
                case "fortran_order" when fortranOrder is null:
                    fortranOrder = ParseBool();
                    break;
                case "shape" when shape is null:
                    shape = ParseShape();
                    break;
                default:
                    throw Error($"unexpected or repeated key '{key}'");
            }
            SkipWhitespace();
            if (Peek() == ',')
            {
                _position++;
            }
            else if (Peek() != '}')
            {
                throw ErrorHere("expected ',' or '}'");
            }
        }
        int dictEnd = _position;
        if (descr is null || fortranOrder is null || shape is null)
        {
            throw Error("the header lacks one of the keys 'descr', 'fortran_order' and 'shape'");
        }

        string? metadata = null;
        while (_position < _text.Length)
        {
            char c = _text[_position];
            if (c is ' ' or '\t' or '\r' or '\n' or '\f')
            {
                _position++;
                continue;
            }
            if (c != '#')
            {
                throw ErrorHere($"unexpected '{c}' after the dict");
            }
            int lineEnd = _text.IndexOf('\n', _position);
            string comment = _text[_position..lineEnd];
            if (metadata is null && comment.StartsWith(NpyHeader.MetadataPrefix, StringComparison.Ordinal))
            {
                metadata = comment[NpyHeader.MetadataPrefix.Length..].TrimEnd(' ', '\t', '\r');
            }
            _position = lineEnd + 1;
        }
        return new Result(descr, structured, fortranOrder.Value, shape, metadata, dictEnd);
    }

    /// <summary>A bracketed value (a structured dtype's list of fields) as written, brackets included; moves past it.</summary>
    private string RawValue()
    {
        int depth = 0;
        int start = _position;
        for (; _position < _text.Length; _position++)
        {
            char c = _text[_position];
            if (c is '[' or '(' or '{')
            {
                depth++;
            }
            else if (c is ']' or ')' or '}' && --depth == 0)
            {
                _position++;
                return _text[start.._position];
            }
        }
        return _text[start..];
    }

    private string ParseString()
    {
        char quote = Peek();
        if (quote is not ('\'' or '"'))
        {
            throw ErrorHere("expected a string");
        }
        int end = _text.IndexOf(quote, _position + 1);
        if (end < 0)
        {
            throw ErrorHere("unterminated string");
        }
        string value = _text[(_position + 1)..end];
        if (value.Contains('\\') || value.Contains('\n'))
        {
            throw Error($"unsupported string literal {quote}{value}{quote}");
        }
        _position = end + 1;
        return value;
    }

    private bool ParseBool()
    {
        if (string.CompareOrdinal(_text, _position, "True", 0, 4) == 0)
        {
            _position += 4;
            return true;
        }
        if (string.CompareOrdinal(_text, _position, "False", 0, 5) == 0)
        {
            _position += 5;
            return false;
        }
        throw ErrorHere("expected True or False");
    }

    private long[] ParseShape()
    {
        Expect('(');
        var dimensions = new List<long>();
        while (true)
        {
            SkipWhitespace();
            if (Peek() == ')')
            {
                _position++;
                return [.. dimensions];
            }
            int start = _position;
            while (_position < _text.Length && char.IsAsciiDigit(_text[_position]))
            {
                _position++;
            }
            if (start == _position ||
                !long.TryParse(_text.AsSpan(start, _position - start), NumberStyles.None, CultureInfo.InvariantCulture, out long dimension))
            {
                _position = start;
                throw ErrorHere("expected a non-negative 64-bit dimension in the shape");
            }
            if (Peek() is 'L' or 'l')
            {
                _position++; // Python 2 long literals, written by old NumPy versions.
            }
            dimensions.Add(dimension);
            if (dimensions.Count > 64)
            {
                throw Error("the shape has more than 64 dimensions");
            }
            SkipWhitespace();
            if (Peek() == ',')
            {
                _position++;
            }
            else if (Peek() != ')')
            {
                throw ErrorHere("expected ',' or ')' in the shape");
            }
        }
    }

    private char Peek() => _position < _text.Length ? _text[_position] : '\0';

    private void Expect(char c)
    {
        if (Peek() != c)
        {
            throw ErrorHere($"expected '{c}'");
        }
        _position++;
    }

    private void SkipWhitespace()
    {
        while (_position < _text.Length && _text[_position] is ' ' or '\t' or '\r' or '\n' or '\f')
        {
            _position++;
        }
    }

    private readonly MappedArrayFormatException Error(string what) =>
        new($"The header of '{_path}' is not a valid .npy header: {what}.");

    /// <summary>An error at the current position: its character number, counted from 1, and the text there.</summary>
    private readonly MappedArrayFormatException ErrorHere(string what)
    {
        if (_position >= _text.Length)
        {
            return Error($"{what} at the end of the header text");
        }
        const int Shown = 16;
        string here = _text.Substring(_position, Math.Min(Shown, _text.Length - _position)).Replace("\n", "\\n", StringComparison.Ordinal);
        string more = _text.Length - _position > Shown ? "..." : "";
        return Error($"{what} at character {_position + 1} of the header text (counting from 1), which reads \"{here}{more}\"");
    }
}
