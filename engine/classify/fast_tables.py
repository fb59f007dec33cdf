"""Tables of the fast title parser: technical words, their values, and words to distrust.

Every value is spelled as `engine.classify.titles.from_guessit` spells guessit's answer
("H.264", "WEB-DL", "DD+", "mul"), so the fast parser and guessit give equal results.
Each entry was checked against guessit 4.4 in the positions the parser accepts it
(after the title's anchor); words guessit reads only in some positions are left out
and make the parser decline.

`RISKY` lists words guessit does not leave in a title: measured by parsing each word
of guessit's vocabulary, and of some 5,000 real release names, inside a title in eight
templates ("Word.{W}.2010.1080p...", "[Grp] Word {W} - 05 [1080p]"...) and keeping
those that changed any field; its last lines were added where generated names showed
guessit reading a word with its neighbour ("Open Matte", "Director's Cut", "Part Two").
A title holding one of them is left to guessit.

The parser was checked, rule by rule, against guessit on the PTN and guessit corpora,
on guessit's cross-parser and rule test names, and on some 200,000 generated names
(scene, YTS, fansub and music shapes, with numbers, accents, other scripts and every
tag of these tables in random places): it declines wherever they differed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final


def _names(spaced: str) -> frozenset[str]:
    """A set of words written as one string, to keep the tables short."""
    return frozenset(spaced.split())


# Single, double and triple tokens (lowercased) -> (field, value). Fields: source,
# codec, res, flag, edition, lang, dl ("DL" after a language), service (a streaming
# service before WEB), skip (a word guessit reads into a field ParsedTitle drops), depth
# (a colour depth: skipped too, but guessit reads no bare group after it), hole (a word
# guessit leaves unread: fine between tags, part of the group before "-GRP"), container
# (a file type named as a word: "MKV"), sub (a subtitle note: it turns a language next
# to it into a subtitle language, which ParsedTitle leaves out).
_KNOWN: Final[Mapping[tuple[str, ...], tuple[str, str]]] = {
    ("bluray",): ("source", "BluRay"), ("blu", "ray"): ("source", "BluRay"),
    ("uhd", "bluray"): ("source", "UHD BluRay"), ("uhd", "blu", "ray"): ("source", "UHD BluRay"),
    ("bdrip",): ("source", "BDRip"), ("brrip",): ("source", "BDRip"),
    ("web", "dl"): ("source", "WEB-DL"), ("webdl",): ("source", "WEB-DL"),
    ("web",): ("source", "WEB-DL"), ("webrip",): ("source", "WEBRip"),
    ("web", "rip"): ("source", "WEBRip"), ("hdtv",): ("source", "HDTV"),
    ("hdtvrip",): ("source", "HDTV"), ("pdtv",): ("source", "DVB"), ("sdtv",): ("source", "SDTV"),
    ("dsr",): ("source", "SAT"), ("dvdrip",): ("source", "DVDRip"), ("dvd",): ("source", "DVD"),
    ("dvd5",): ("source", "DVD"), ("dvd9",): ("source", "DVD"), ("dvdr",): ("source", "DVD"),
    ("dvd", "r"): ("source", "DVD"), ("hddvd",): ("source", "HD-DVD"),
    ("hdrip",): ("source", "HDRip"), ("cam",): ("source", "CAM"), ("camrip",): ("source", "CAM"),
    ("hdcam",): ("source", "HDCAM"), ("ts",): ("source", "TS"), ("telesync",): ("source", "TS"),
    ("hdts",): ("source", "HDTS"), ("tc",): ("source", "TC"), ("ppv",): ("source", "PPV"),
    ("vhsrip",): ("source", "VHSRip"), ("dvdscr",): ("source", "DVDScr"),
    ("ahdtv",): ("source", "HDTV"), ("dsrip",): ("source", "SAT"),
    ("webcap",): ("source", "WEBRip"), ("dm",): ("source", "DM"), ("dmrip",): ("source", "DM"),
    ("tvrip",): ("source", "SDTV"), ("webhd",): ("source", "WEB-DL"),
    ("dvd", "rip"): ("source", "DVDRip"), ("bd", "rip"): ("source", "BDRip"),
    ("br", "rip"): ("source", "BDRip"),
    ("x264",): ("codec", "H.264"), ("h264",): ("codec", "H.264"), ("h", "264"): ("codec", "H.264"),
    ("avc",): ("codec", "H.264"), ("x265",): ("codec", "H.265"), ("h265",): ("codec", "H.265"),
    ("h", "265"): ("codec", "H.265"), ("hevc",): ("codec", "H.265"),
    ("hevc10",): ("codec", "H.265"), ("xvid",): ("codec", "Xvid"), ("divx",): ("codec", "DivX"),
    ("av1",): ("codec", "AV1"), ("vp9",): ("codec", "VP9"), ("mpeg2",): ("codec", "MPEG-2"),
    ("mpeg", "2"): ("codec", "MPEG-2"), ("vc1",): ("codec", "VC-1"),
    ("vc", "1"): ("codec", "VC-1"),
    ("remux",): ("flag", "Remux"), ("hdr",): ("flag", "HDR"), ("hdr10",): ("flag", "HDR"),
    ("hdr10+",): ("flag", "HDR"), ("dv",): ("flag", "DV"), ("dovi",): ("flag", "DV"),
    ("dolby", "vision"): ("flag", "DV"), ("3d",): ("flag", "3D"), ("hsbs",): ("flag", "3D"),
    ("half", "sbs"): ("flag", "3D"), ("h", "sbs"): ("flag", "3D"), ("hou",): ("flag", "3D"),
    ("half", "ou"): ("flag", "3D"), ("complete",): ("flag", "Complete"),
    ("internal",): ("flag", "Internal"), ("repack",): ("flag", "REPACK"),
    ("rerip",): ("flag", "REPACK"), ("proper",): ("flag", "PROPER"),
    ("real", "proper"): ("flag", "PROPER"), ("real", "repack"): ("flag", "REPACK"),
    ("upscaled",): ("flag", "Upscaled"), ("upscale",): ("flag", "Upscaled"),
    ("dual", "audio"): ("flag", "Dual Audio"), ("docu",): ("flag", "Documentary"),
    ("doku",): ("flag", "Documentary"), ("xxx",): ("flag", "XXX"),
    ("extended",): ("edition", "Extended"), ("extended", "cut"): ("edition", "Extended"),
    ("unrated",): ("edition", "Unrated"), ("remastered",): ("edition", "Remastered"),
    ("imax",): ("edition", "IMAX"), ("imax", "edition"): ("edition", "IMAX"),
    ("uncut",): ("edition", "Uncut"), ("limited",): ("edition", "Limited"),
    ("theatrical",): ("edition", "Theatrical"), ("theatrical", "cut"): ("edition", "Theatrical"),
    ("directors", "cut"): ("edition", "Director's Cut"),
    ("director's", "cut"): ("edition", "Director's Cut"), ("dc",): ("edition", "Director's Cut"),
    ("criterion",): ("edition", "Criterion"), ("uncensored",): ("edition", "Uncensored"),
    ("restored",): ("edition", "Restored"), ("festival",): ("edition", "Festival"),
    ("special", "edition"): ("edition", "Special"), ("4k", "remastered"): ("edition", "Remastered"),
    ("4k", "restored"): ("edition", "Restored"),
    ("collectors", "edition"): ("edition", "Collector"),
    ("alternate", "cut"): ("edition", "Alternative Cut"),
    ("alternative", "cut"): ("edition", "Alternative Cut"),
    ("multi",): ("lang", "mul"), ("french",): ("lang", "fr"), ("truefrench",): ("lang", "fr"),
    ("vff",): ("lang", "fr"), ("vf",): ("lang", "fr"), ("vfq",): ("lang", "fr"),
    ("vfi",): ("lang", "fr"), ("fre",): ("lang", "fr"), ("german",): ("lang", "de"),
    ("ger",): ("lang", "de"), ("italian",): ("lang", "it"), ("ita",): ("lang", "it"),
    ("spanish",): ("lang", "es"), ("spa",): ("lang", "es"), ("castellano",): ("lang", "ca"),
    ("eng",): ("lang", "en"), ("english",): ("lang", "en"), ("russian",): ("lang", "ru"),
    ("rus",): ("lang", "ru"), ("hindi",): ("lang", "hi"), ("hin",): ("lang", "hi"),
    ("japanese",): ("lang", "ja"), ("jpn",): ("lang", "ja"), ("korean",): ("lang", "ko"),
    ("kor",): ("lang", "ko"), ("swedish",): ("lang", "sv"), ("swe",): ("lang", "sv"),
    ("dutch",): ("lang", "nl"), ("polish",): ("lang", "pl"), ("cz",): ("lang", "cs"),
    ("hun",): ("lang", "hu"), ("portuguese",): ("lang", "pt"), ("hebrew",): ("lang", "he"),
    ("heb",): ("lang", "he"), ("norwegian",): ("lang", "no"), ("nor",): ("lang", "no"),
    ("ukrainian",): ("lang", "uk"), ("telugu",): ("lang", "te"), ("tel",): ("lang", "te"),
    ("dl",): ("dl", "mul"),
    ("4k",): ("res", "2160p"),
    ("10bit",): ("depth", ""), ("8bit",): ("depth", ""), ("12bit",): ("depth", ""),
    ("hi10p",): ("depth", ""), ("10", "bit"): ("depth", ""),
    ("hybrid",): ("skip", ""), ("ntsc",): ("skip", ""), ("pal",): ("skip", ""),
    ("readnfo",): ("skip", ""), ("nfofix",): ("skip", ""), ("dirfix",): ("skip", ""),
    ("sdr",): ("skip", ""), ("hfr",): ("skip", ""), ("ws",): ("skip", ""),
    ("vostfr",): ("skip", ""), ("r5",): ("skip", ""), ("2in1",): ("skip", ""),
    ("hr",): ("skip", ""), ("md",): ("skip", ""), ("ld",): ("skip", ""), ("oar",): ("skip", ""),
    ("dxva",): ("skip", ""), ("samplefix",): ("skip", ""), ("stv",): ("skip", ""),
    ("convert",): ("skip", ""),
    ("hc",): ("hole", ""), ("r6",): ("hole", ""),
    ("subbed",): ("sub", ""), ("subs",): ("sub", ""), ("vost",): ("sub", ""),
    ("subfrench",): ("sub", ""), ("esub",): ("sub", ""), ("esubs",): ("sub", ""),
    ("fastsub",): ("sub", ""), ("fansub",): ("sub", ""), ("hardsub",): ("sub", ""),
    ("mkv",): ("container", "mkv"), ("avi",): ("container", "avi"), ("mp4",): ("container", "mp4"),
    ("amzn",): ("service", ""), ("nf",): ("service", ""), ("dsnp",): ("service", ""),
    ("hmax",): ("service", ""), ("atvp",): ("service", ""), ("hulu",): ("service", ""),
    ("dcu",): ("service", ""), ("pcok",): ("service", ""), ("pmtp",): ("service", ""),
}  # fmt: skip

_KNOWN_PAIRS: Final = frozenset(key[0] for key in _KNOWN if len(key) > 1)
"""First words of the multi-token entries, to skip the pair lookups for most tokens."""

_AUDIO_RE: Final = re.compile(
    r"^(ddp|dd\+|dd|eac3|ac3|aac|dts|truehd|flac|opus|mp3|atmos|lpcm|pcm)(\d)?$"
)
_AUDIO_NAMES: Final[Mapping[str, str]] = {
    "ddp": "DD+", "dd+": "DD+", "eac3": "DD+", "dd": "DD", "ac3": "DD", "aac": "AAC",
    "dts": "DTS", "truehd": "TrueHD", "flac": "FLAC", "opus": "Opus", "mp3": "MP3",
    "atmos": "Atmos", "lpcm": "LPCM", "pcm": "PCM",
}  # fmt: skip
_CHANNELS: Final[Mapping[str, str]] = {"2ch": "2.0", "6ch": "5.1", "8ch": "7.1"}

RISKY: Final = _names(
    """
    aac afl aflevering ahdtv alternate alternative amazonhd asf asrequested atmos au audio
    australia avc avchd avi avsnitt bd bdmux bdrip bdripmux bluray bluraymux bolum bonus bp br
    brazilian brmux brrip brripmux bölüm cam camrip cap capitulo capitulos castellano catalan
    català cc ces classic collector colorized complet complete convert criterion cs customsub
    customsubbed customsubs cz cze czech dc dd ddc ddex ddp deluxe deu dirfix divx dl dlmux dm
    dmrip docu doku dolby dolbydigital dovi dsr dsrip dth dts dtses dtsex dtshd dtsma dtsx dual
    dualaudio dub dubbed dublado dubpl dut dutch dv dvb dvd dvdivx dvdr dvdrip dvdscr dxva e ed
    en enc eng english ep episode episodes episodio episodios episodul eps es esp espanol
    español esub esubs extended extras fansub fastsub fhd final flac flemish flv folge fr fra
    français fre french frsub frsubs fullhd gb ger german hardsub hd hdcam hddvd hddvdrip
    hditunes hdlight hdlite hdr hdrip hdtc hdtcrip hdts hdtsrip hdtv hdtvmux hdtvrip heb hebrew
    hebsubs hevc hfr hi hin hindi hip hou hp hq hr hsbs hu hun hungarian hybrid idx imax
    integrale internal intégrale iso ita italian ituneshd ja japanese jp jpn ko kor korean lame
    laserdisc ld ldtv legenda legendado legendas limited lintegrale lpcm mbcvod md mhd minisode
    minisodes mka mkv mono mov mp mpeg mpg mul multi multiple multisub nced ncop netflixuhd
    netflixuhdrip nfofix nl nld nlsubs nor norwegian ntsc nzb oad oar oav odcinek ogg ogm ogv om
    ona op oped opus ov ova pal pb pcm pdtv pilot pl pldub pmt pob pol polish portuguese
    postbot ppv preair prooffix proper pt ptbr qt ra ram rc readnfo real reenc reencoded
    remaster remastered remux repack rerip restore restored retail rm ro romanian ron ru rus
    russian rész s samplefix sc screener sdr sdtv se secam seria serii serija soft spa spanish
    special srt ssa stereo stfr stv subbed subforced subfr subfrench subs subsv subswe subtitle
    subtitles subtitulado sv svc svsub swe swedish swesub swissgerman tc tcrip te tel telecine
    telesync telugu theatrical torrent trailer truefrench truehd ts tvrip ua uhd uhdtv uk ukr
    ukrainian ultra ultrahd unaired uncensored uncut und undetermined unrated upscale upscaled
    us vf vff vfi vfq vfr vhs vhsrip vita vo vob vod vorbis vost vostfr vr wav web webcap webdl
    webdlrip webhd webmux webrip webuhd widescreen wma wmv workprint wp ws xp xpost xvid xxx
    épisode épisodes серии серия эпизод
    rip tv dvd5 dvd9 hdr10 sbs x264 x265 h264 h265 mp4 webm m4v sample proof fix fixed r5
    part pt vol volume cd disc season seasons saison saisons chapter line lr tb ou festival
    eac360 bt mp2 cut edition edit matte wide pre central geographic swim amazon crunchy iplayer
    cw feed true collection bdremux
    """
)
"""Words guessit reads as something other than title text (measured; see the docstring)."""

NUMBER_WORDS: Final = _names(
    """
    season seasons saison saisons seizoen temporada temporadas stagione сезон sezon staffel
    sezonul säsong sesong sæson évad series serie miniseries part pt vol volume cd cds disc
    disk week ep eps episode episodes episodio chapter no nº num number v vs n
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed weds thu thur
    thurs fri sat sun week
    """
)
"""Words that change meaning with a number in the title ("Season 2", "Part 3", "No 5",
"July 4"): a title holding a number and one of these is left to guessit."""

LINK_WORDS: Final = _names("of sur de di von van din из to a and et & x e s")
"""Words that join two numbers for guessit ("1 of 6", "1 to 3", "2 & 3"): a title holding
one right beside a number is left to guessit."""

SERVICES: Final = _names(
    """
    4od 9now a&e adn ae ajaz all4 amazon ambc amc amzn anlb anpl aol aptv ard as atk atvp aubc
    bkpl blu bnge boom brav cbc cbs cc ccgc chgd cmax cmt cn cnbc cnlp cr crav crkl cspn ctv cur
    cw cws dcu ddy df dhf disc discovery disney diy docc dply dramafever dscp dski dsnp dsny epix
    espn esq ettv etv fam fandor fbwatch fjr food fox foxp fp free fxtl fyi gaga gc glbl glob hbo
    hgtv hist history hlmk hmax hoichoi hulu id ifc ifx ina ip iqiyi it itunes itv know life max
    mbc mbcvod mnbc mtod mtv mubi my5 natg nba nbc netflix nf nfb nfl nfln nick nickapp
    nickelodeon now nrk odk ondemandkorea opto own paramountplus pbs pbsk pcok peacock pluz pmnp
    pmtp pogo psn red rktn roku rte ruutu sbs sci seeso seso shmi sho snet sony spik spke sprt
    stan stz svt swer syfy tbs tfou tlc tubi tv3 tv4 tving tvl tvnz ufc uktv univ usan vh1 vice
    viki vlct vmeo vrv wme wnet wwen xbox yhoo zdf
    """
)
"""guessit's streaming services: one ending a title right before a source is read as such."""

CONTAINERS: Final = _names(
    """
    3g2 3gp 3gp2 asf avi divx flv iso m4v mk2 mk3d mka mkv mov mp4 mp4a mpeg mpg ogg ogm ogv qt
    ra ram rm ts m2ts vob wav webm wma wmv srt idx sub ssa ass nfo torrent nzb rar zip 7z tar gz
    bz2 tgz ace arj cbr cbz cb7 jpg jpeg png gif bmp tbn webp
    """
)
"""guessit's file extensions: a name ending in ".ts" or ".DivX" has a container there."""

NOT_GROUPS: Final = _names("lc he hq hr hra ma es ex r5 rc sample proof")
"""Last words guessit reads as audio profiles or tags, not as the release group."""
