"""A bag: shell, frame, zips, handles, wheels, clutter, confusers and 0-4 objects of interest.

`compose_bag` draws everything into one per-material Canvas (thickness maps, never rendered
pixels) seen through a fan beam, and returns it with exact ground truth: each object's instance
mask, and for anomalous ones the anomaly's mask, type and visibility (the change in ln T_high it
causes over the noise). Everything inside the bag is placed in the bag's own coordinates.

Physics notes: how bags are packed and lie, tuned against the 136 real benign SIXray bags of
`sixray_benign_backgrounds.txt` with `benchmarks/synth_realism.py` (never against the
evaluation list):
- The export is cropped to the bag: its box spans 99-105 % of the frame on its limiting axis
  (faint rims and handles may run off; v2.0-v2.4: 100-106 %, v2.5-v2.9: 104-110 %, v2.15-v2.28:
  101-107 %), as the real scans' content spans ~99 % of theirs. The bag's side that leaves
  white in a 4:3 frame is lengthened until its image, as the fan draws it (stretched 1.1-1.3×
  across the belt, the faces apart), is at most 12 % wider or taller than that frame
  (`frame_fit`, `fit_projection`; v2.1-v2.4 fitted the bag's box before its pose); then
  (v2.29, `frame_to_bag`) the frame takes the shape of the bag's image, width over height
  0.57-1.45, with the configured pixel count, as a real export is the bag's box (0.57-1.43,
  77 % portrait). v2.0-v2.28 kept every frame 4:3 or 3:4, so a turned bag floated in white.
- Pose on the belt (v2.8): 95 % of the bags travel with their long side along the belt, the rest
  across it (`lengthwise_share`; v2.66: 15 %, the export turned), and the frame's long side
  follows the bag's image as the fan draws it, turn included, as an export cropped to the bag
  does: a 640×480 config makes 480×640 images of ~80 % of the bags (77 % of the real exports are
  portrait; their height / width: median 1.22, 10-90 % 0.84-1.48), the pixel pitch as before. To
  fill the 4:3 frame a bag's side grows by at most 1.3× and the bag to at most 1.7× as long as
  wide (`FIT_MAX_GROWTH`, `FIT_MAX_ASPECT`). Either way, 55 % of the bags lie within 10° of
  straight and 45 % are turned by 12-40° (v2.29; the real bags' tightest rectangles: 27 % under
  4°, 23 % beyond 32°, few at 12-27°; v2.5-v2.28: ± 8°, half turned by up to 35°, 3 % beyond 32°;
  v2.0-v2.4: one in seven turned). v2.0-v2.7 laid nine bags in ten across the belt in a landscape
  frame (image rows are the belt's direction), so their trolley rails ran across the image where
  the real scans' run down it.
- The fan (v2.5): its plane leans along the belt by s = 0.1-0.35 either way (`fan_lean`,
  `FanBeam.shear`: a point at height z lands at y − s·z, every ray cast exactly along (dx,
  s·dz, dz)) and its source sits at one side of the tunnel, −30 % to +10 % of the frame's
  width, either side (`fan_apex`, `fan_apex_mirror`), so a higher point lands nearer that side
  (`FanBeam.image_x`): a case's top and bottom faces show apart both ways, joined by its side
  walls, as in the real scans (up to ~40 % of its depth). v2.0-v2.4: an upright fan with its
  source in the middle, which shrank the top face about its centre, an even band all round.
- Packing: 7-16 garments of 8-24 cloth layers (15-50 mg/cm² a layer), folded with creases or
  (v2.11) rolled, stacked along or across the bag (σ 4.6°) so they reach its walls (v2.0: any
  heading, which piled them up in the middle), and 26-46 other items (cables, shoes,
  toiletries, books, food, keys, coins and strewn small metal: clips, pins, buttons, lipsticks,
  USB sticks; v2.5-v2.10: 38-66), so clothes make a dense orange mass and small metal is
  everywhere; soft bags have PVC-coated sides, seen edge-on as a green rim. Those counts are
  a mid-sized trolley's: other bags hold as many times more or fewer as their volume
  (`fill_by_volume`; v2.1-v2.4: 28-50 items in any bag, so a backpack held a trolley's load
  and piled up black).
- Items as packed (`packed_pose`): flat as built, face up or down, tilted by N(0, 7°) about
  both flat axes, at any heading (since v2.62 four in five objects of interest within σ 7° of
  the bag's axes, `aligned_hosts`); a laptop or phone stands on edge in 4 % of bags, a hairdryer
  in 10 %; an iron lies on its side half the time, a toaster a quarter; a bottle stands
  upright (seen end-on) in 15 %. Items too big to turn freely are lined up with the bag.
- The shell (`shell_corners`): corners rounded with a 6-14 cm radius, a soft bag's walls
  following the wobble of its piping (at most ±10 %), its clothes cut to the walls (crumpled,
  they would reach past a rounded corner), its front pocket sewn on the face; the bag's fit to
  the frame takes the rounded corners into account; objects and rigid clutter are pulled in
  until their footprint lies within the shell's outline. v2.0-v2.2 drew a box. A trolley lies
  on its back, so its wheels stand on its bottom end (v2.30, `wheels_at_end`): a pair (two
  pairs, doubled by the fan's lean) of spinners or fixed wheels at one end of its image,
  standing out of it by up to 7.5 cm, the frame holding 4 cm of that (`WHEEL_REACH`).
  v2.3-v2.29 put a spinner's round turret on each corner's arc of the outline, its steel pin
  seen end-on as a black dot; v2.0-v2.2: wheels in box housings inside the corners.
- Gaps filled (`spread`, v2.4): each rigid clutter item goes to the least packed of 4 places
  drawn (the summed height of the items' boxes over 2 cm cells), as a packer fills the gaps;
  before, clutter piled up on the clothes in the middle of the bag, where overlapping metal
  turned black (dense blobs 24 → 30 a bag, real 33; black share 0.012 → 0.010).
- Cables (`cables`, `coiled_cables`): one clutter item in seven is a cable, three in four of
  them wound in 2-6 loose loops; v2.0-v2.2 drew one in five, each a random walk, so thin lines
  crossed every bag.
- Moulding (`moulding`, v2.5): a hard shell's bent face edges, the two halves' lips at
  mid-height (aluminium in 3 cases in 10) and ribs along each face, which the fan shows as
  stacked contour lines; on every bag, 5-9 groups of 2-4 screws or rivets along its edges,
  where handles, feet and guards are fixed.
- Wound transformers (`wound_coils`, v2.5): a charger's E-core with half-filled windows;
  v2.0-v2.4 drew solid ferrite in solid copper, 3.6 cm of metal that turned black under
  anything (a third of all black pixels).
- Hosts first (`hosts_first`, `host_room`, off by default): objects of interest are laid in
  before the clutter, which then goes to the least packed of its `spread` places counting
  `host_room` cm over each of them (a packer keeps hard things off a laptop): metal clutter
  over a bottle falls from 20 % of its pixels to 11 % with 30 cm.
- `clutter_mix` changes the clutter kinds' frequencies (`clutter.CLUTTER`).
- A soft bag's ragged edge (`fringe`, v2.6): on both faces, 2.5-5 mm of cloth (seam allowances,
  flaps, bulging fabric) reaching 0.4-1.2 cm beyond the walls, wavy along them; before, a soft
  bag ended on its piping, one crisp line. Its random numbers are its own, seeded by the walls,
  so the bag is otherwise the same without it.
- Objects of interest side by side (`host_spread`, v2.7): each goes to the one of 8 places
  drawn that those laid in before cover least (by their boxes over 2 cm cells), as a packer
  lays a laptop beside an iron; before, each lay where it fell, the objects of a bag covered
  half of one another (48 bags; 8 places: a third; a laptop and a toaster 70 % → 30 %), and
  their stacked metal made three fifths of the black pixels.
- Buckled soft walls (`wall_creases`, v2.9): a packed soft wall is never one upright sheet.
  3-8 stretches of it slant or bulge inwards, each seen from above as a band 1-3 cm wide that
  follows the walls 0.2-2.6 cm inside them, its thickness the cloth's times the stretch's
  height (15-40 % of the bag's depth) over the band's width, so a narrow band is strong and a
  wide one faint. The real scans show soft bags' walls as such stacked bands. On random
  numbers of their own (seeded by the walls), so a bag is otherwise the same without them.
  v2.0-v2.8 drew 1-3 thin folds, and a wide plain band between the bag's two faces. Readers
  judging pairs of the same bag preferred a light orange rim, paler than the contents, to
  both the bare band and a heavy dark one (docs/simulator-realism.md).
- Screws through the walls (`side_fittings`, v2.9): half of the screw groups along a bag's
  edges are driven through its side walls, so the fan sees them side-on: a head and a
  0.6-1.5 cm shaft pointing inwards, square to the wall, the nail and T shapes real scans show
  along a bag's walls (v2.5-v2.8: all face-on, as dots). Which groups and their shafts come
  from random numbers of their own.
- Mostly trolleys (`trolley_share`, v2.10): by eye about nine in ten of the real backgrounds
  show a trolley's handle rails or wheels; nine bags in ten are trolleys (v2.0-v2.9: half).
  One in three of a trolley's frame plates is PVC (`frame_plates`; v2.0-v2.9: two in three,
  when the plate made 0.045 of a trolley's pixels green).
- Contents and walls as readers judged them beside real scans (v2.11):
  - Rolled clothes (`rolled_clothes`): each garment packed is, six times in ten, a row of 2-5
    rolled ones side by side (`clutter.rolled_clothes`), so five in six go rolled. A roll
    holds the folded garment's cloth, wound loose (cloth 20-40 % of its volume) into a
    cylinder with rounded ends, so from above it is graded like a chord, thickest along its
    axis, and its wrinkles are fine streaks along it (`_streaks`) where a folded garment's are
    mm-scale spots, which on a thick roll read as a leopard's. Real bags show such rows.
  - Fewer clutter items (26-46, v2.5-v2.10: 38-66) and fewer of them cables (1.2 against the
    other kinds' frequencies, v2.3-v2.10: 2.0): readers saw dozens of small things strewn
    evenly, a parts bin, and coils of loops all over the middle.
  - Keys hang to one side of their ring, fanned over ±34° (`fanned_keys`; v2.0-v2.10: at any
    angle round it, a pinwheel readers called made-up).
  - Side walls (`side_ribs`, their own random numbers): 5-12 ribs round a hard shell's side
    wall, or seams round a soft one's and, in half of them, an expander zip's steel teeth. The
    fan sees the wall from the side, so they show as the band of lines along the outline that
    real bags' rims show (rim edge density 0.17-0.18 → 0.18-0.20, real 0.23).
  - Hardware inside the shell (`hardware_on_walls`): screw groups follow a rounded wall round
    its corners, the zip follows the walls as they bulge, its pulls hang along it, and the
    studs, D-rings and buckles on the faces keep 2.5 cm inside the walls (v2.0-v2.10: all
    could stand out of the shell, a blind reader's cue).
  - Handle tubes 2.0-3.6 cm wide, three in four aluminium (`handle_tubes`, `tube_metals`;
    v2.0-v2.10: 2.8-4.5 cm, half steel, read as wide flat blue bars; real rails are mostly
    green with blue edges, which is what aluminium tubes give). v2.26 went back on this (below).
- Soft clothes and heavy goods (v2.12). A garment's cloth, folded or rolled, is blurred by a
  Gaussian of σ 1.2 cm (`soft_cloth`) before its wrinkles: its edges spread over about 3 cm,
  its seams and fold steps smooth out, the cloth is kept and its metal bits and wrinkles are
  as they were, as folded edges are rounded and real clothes show fuzzy outlines; before,
  every garment ended on a cut edge, which readers called flat cut-out shapes. And more
  organic mass (`heavy_goods`, `clutter_mix` = `HEAVY_MIX`): shoes come in
  pairs, side by side heel to toe, three in five trainers on foam soles (`clutter.shoes`); food
  includes jars of jam (glass, seen standing as a green ring) and packs of grain
  (`clutter.jar`, `clutter.grain_pack`); pairs of shoes, wash bags and food are packed two to
  three times as often against the other kinds, so fewer small metal things are strewn about.
  v2.11's bags were brighter than the real ones (content 0.79-0.80 against 0.75), their dark
  pixels blue where the real scans' are orange or green. A first candidate that also packed
  books three times as often (configs/synth/heavy_goods.yaml, on v2.11) went olive and muddy
  to a reader.
- A bag packed to its walls (v2.13). Between the garments drawn one by one, the soft goods
  that fill the bag's depth (`packed_fill`, `_draw_packed_fill`): 0.5-1.0 cm of solid cloth as
  8 layers of the shell's inner outline from its floor to its top, uneven and softened. The
  leaning fan sees the floor and top apart, joined by the side walls; garments lie at one
  height each and seldom against a wall, so v2.12 left a pale band inside the walls (content
  blocks brighter than V 0.9: real 4 %, v2.12 16-19 %, v2.13 10 %). The fill darkens every
  edge's contrast, so the walls carry more ribs and seams (`side_ribs` 8-16) and buckled bands
  (`wall_creases` 5-10), as the real rims carry more edges than ours.
- Umbrellas as built (v2.14, `folded_umbrellas`): a telescoped shaft with 6-10 ribs folded
  unevenly round it (`clutter.umbrella`), where v2.0-v2.13 drew one ladder of eight even
  stripes, and about a quarter as many (`PACKED_MIX`): v2.13's bags held one on average,
  some four.
- Round corners (v2.15, `corner_points` 9): a rounded shell's outline, which its walls, piping,
  zip and ribs follow, turns each corner in 8 facets of 11.25°, where v2.0-v2.14 turned it in 4
  of 22.5° that readers saw as piping going round a corner in straight segments; and the bag's
  box is 1.01-1.07 of the frame (`fill`), as the rounder corners hold a little more content.
- The console (v2.16, `SynthConfig.colour` = `colour.SIM_STYLE`; the bags are v2.15's): Zeff
  under dense objects averaged over a wider neighbourhood of like Zeff (`dense_zeff_denoise`),
  where its noise left blotches of blue and teal that readers called "camouflage" and
  "leopard" spots, and the local contrast of thin material lifted (`local_contrast`), so
  packed clothes show their folds and the rims carry the real scans' edges.
- The palette (v2.17): metal bluer (Zeff 18 paints 185°, was 172°; Zeff 20 208°, was 200°) and
  greens leafier and less saturated (Zeff 16 118°, was 145°), where readers saw v2.16's metal
  as "a dull teal" and its greens as lime.
- Organics (v2.18): dense organics saturate to 0.84-0.88 and thin ones stay paler (saturation
  rising more slowly with attenuation), as the real scans' orange pixels do band by band.
- Toasters' slot guards as built (v2.19, `wire_guards`): cages of steel wire, which the beam
  sees end-on as rows of dots, where v2.0-v2.18's solid plates, 11-13 cm of steel edge-on,
  drew black lines across every toaster (a quarter of seed 0's black pixels).
- Creased clothes (v2.20, `cloth_creases`, `_cloth_folds`): along the zero lines of a random field
  stretched 10 cm along a heading (a roll's axis, or drawn) and 2.5 cm across, a garment's
  cloth thins to a pale line a few mm wide (to a fifth), and between the lines it is thicker
  on one side and thinner on the other (by up to 90 %, floored at a fifth: at 2.5 a tenth of
  the cloth's pixels sit on the floor), the lines fading in and out over about 6 cm; the
  cloth is moved, not lost, and its metal bits are untouched. Real scans' clothes show such
  wispy pale lines with a shaded side, where v2.0-v2.19's even cloth read to readers as flat,
  translucent cut-outs. On random numbers of their own (seeded by where the garment lies),
  so a bag is otherwise the same without them.
- Air shown white (v2.21, the console's `air_white`; the bags are v2.20's): where T_high,
  smoothed over 1.5 px, reaches 0.975, the console shows pure white, as consoles normalise
  the empty tunnel; v2.0-v2.20's background was speckled with pale tinted dots (the real
  scans' background is flat: grey-level σ 0.4 against our 1.6).
- Thin mixtures painted towards organic (v2.22, the console's `thin_organic`; the bags are
  v2.21's): where T_high is above 0.35-0.6, Zeff 8-11 is pulled towards 8 (8-9.5 to 8, 10.5
  to 9.7, 11 as it was), as a console's two-dimensional colour table paints thin content
  orange unless it is clearly inorganic. A few mm of PVC or aluminium under thin cloth, and
  the sharpening's halos, had washed shells, floors and wheels pale lime (coloured content
  brighter than V 0.88 of hue 50-90°: real 1.4 % of the content, v2.21 5.9 %).
- Sage light greens (v2.23, the console's palette; the bags are v2.22's): mixtures of Zeff
  10-16 paint 84 / 97 / 106 / 120° (were 75 / 88 / 100 / 118°) and saturate more slowly, as
  the real scans' light greens do (V 0.8-0.9: hue 90°, saturation 0.29; v2.22 79°, 0.57, which
  a reader called highlighter lime).
- Lighter metal (v2.24, the console's `metal_gamma` 0.65; the bags are v2.23's): metal's
  brightness curve is flatter than the organics', as a console's two-dimensional table
  paints metal sky blue where one curve for every Zeff paints it navy (blue pixels'
  brightness quartiles: real 0.52 / 0.65 / 0.79, v2.23 0.47 / 0.54 / 0.63, v2.24 0.55 / 0.63 /
  0.72).
- A softer console (v2.25, `sharpen_range` 1.5-3.75, was 1.8-4.5; the bags are v2.24's):
  readers saw our outlines crisp and our tan areas grainy where the real scans are soft.
- Solid handle tubes (v2.26, `handle_tubes` 1.6-2.8 cm, `tube_metals` three in four steel,
  `tube_walls` 2): three readers in a row saw our trolley rails as faint, see-through
  yellow-green strips where the real scans' are solid blue bars with dark edges; blue share
  (pooled, seeds 0 / 3 / 7) 0.066 / 0.051 / 0.048 → 0.097 / 0.077 / 0.070, real 0.081.
- Packed to the walls (v2.27, `against_walls`, `coated_folds`): an item's centre was drawn
  evenly over the room its box leaves, so items covered the bag's middle most and its walls
  least, the real scans' evenly. By depth into the bag (seed 0, v2.26 against the real
  scans, `realism.class_by_depth`), its inner half was 0.49 green against 0.28 and its outer
  5 % 0.69 orange against 0.51. Now each is drawn over that room and its own width beyond
  it on each side and pushed back against the wall it crossed, so every spot from wall to
  wall is covered as often. And a PVC-coated soft bag's fringe, bulges, buckled bands and
  seams are of the coated cloth, so they carry its coating in the share it has of the wall
  (0.07-0.5): the real rims are greener (outer 5 % of the depth: 0.26 green), though this
  moves ours only from 0.13-0.14 to 0.15-0.16.
- Soft walls (v2.28, `soft_walls`, `soft_grain`): a soft bag's fringe, buckled bands, bulges
  and seams each drew a sharp outline, and the fan's lean stacks them into a band of
  concentric lines, which readers had called "onion rings" and "wood grain" since v2.9. Cloth
  never folds in exact outlines: they are now softened by a Gaussian of 4 mm (metal and piping
  crisp), and the cloth's thickness varies by a fifth over 2.5 mm, the fine grain of woven and
  padded cloth. Softened alone, a reader preferred the walls 8 to 0, but those lines had been
  most of the rim's edges (rim edge density 0.216 → 0.17, real 0.226; edge ratio 0.90-0.92);
  with the grain the rim's edges are v2.27's again (0.217) and a reader again preferred it 8
  to 0: "soft, fuzzy, finely grainy" against "sharp, parallel, nested outline rings".
- A shallower grain (v2.31, `soft_grain` 0.3; v2.29-v2.30: 0.4): readers of blind sheets named
  a "speckled, sandy rim" first among v2.30's tells; side by side, two readers preferred the
  shallower grain in 15 of 16 pairs (one the same), all slightly: "a blotchy, sponge-like
  pattern" against streaks that follow the wall. 0.2 took the edge density below the real
  scans' (ratio 0.89 on seed 0).
- Swivelled spinners (v2.32, `swivel_wheels`): the four spinners on a trolley's bottom end all
  stood alike, axles across the belt, each a steel pin out to a bare axle, which a blind reader
  saw as "the same T-shaped wheel stubs". A spinner stops turned however it last rolled, so
  each now stands at an angle of its own about its swivel (x): its axle across the belt (tyres
  edge-on), along the beam (wheels seen round) or between. As built: polyurethane tyres, in
  half the casters a steel ball bearing in each wheel's hub, the swivel on a ring of 8-12
  steel balls in the turret, the steel pin kept inside the turret and a nylon stem out to a
  bolted axle. The real scans show such rings of dots, round tyres and capped axles; two
  readers preferred it in 8 of 8 pairs each.
- Yellow-green dense greens (v2.33, the console's palette; the bags are v2.32's): mixtures of
  Zeff 11.5 / 13 / 16 paint 94 / 96 / 106° (were 97 / 106 / 120°). A blind reader named "greens
  lean teal"; by brightness band V 0.4-0.6 our greens' hue medians were 115 / 108 / 102°
  against the real scans' 106 / 96 / 96° (now 103 / 98 / 96°). Two readers preferred halfway
  (100 / 112°) to v2.32 in 8 of 8 pairs each, and two preferred this to halfway in 8 of 8 each,
  every call slight or clear.
- Fitted handle tubes (v2.34, `rail_fittings`): a trolley's handle tubes ran as bare bars with
  square ends, which blind readers named among the strongest tells ("flat blue rails with hard
  ends"; real rails show "rivets and brackets"). Each tube now stands on a steel foot wider than
  itself at its bottom end, screwed to the frame either side, with a screw through the grip's
  housing at its top, the lock's steel clip where the inner tube ends and 1-3 rivets along it,
  on random numbers of their own (`trolley._rail_fittings`). Two readers preferred it in 8 of 8
  pairs each, nearly all slightly; the tubes themselves still read as solid bars.
- Streaked wall cloth (v2.35, `wall_streaks`, `soft_grain` 0.4): the softened wall cloth's
  grain ran in no direction over 2.5 mm, which blind readers named first among the tells
  ("a grainy, speckled rim"; "blotchy, foam-like noise" where real rims show "fine fibre-like
  streaks along the edge"). It is now finer (1.2 mm, about a pixel) and, by variance, a little
  over half of it runs in streaks 2 mm apart along the cloth's edges, wandering by about 3 mm
  and fading in and out every few cm (`_wall_streaks`, on random numbers of their own; clipped
  at ±2σ so no streak leaves a hole; rescaled so the cloth keeps its mass), with the grain's
  share raised from 0.3 to 0.4 to keep the rim's edge density. Two readers preferred it in 8
  of 8 pairs each; both saw some creases as embossed and some concentric rings where a cloth
  band ends in a corner. The rim's texture coherence (realism figure `rim_coherence`)
  overshoots the real scans': 0.68 against their 0.57 (v2.34: 0.57; seed 0).
- Straighter, shorter streaks (v2.36, `streak_wander` 0.1 cm, `streak_length` 1 cm; v2.35: 0.3
  and 3): readers of v2.35 saw its wandering streaks as "wood grain", "topographic" or
  "onion-ring" ripples, most at corners. Two readers preferred the straighter ones in 5 of 8
  and 4 of 8 pairs (against 3 and 1, the rest "the same"), a weak preference: which side wins
  a pair depends on where ripples happen to form. Rim coherence 0.68 → 0.67 on seed 0.
- Metal's brightness linear in its attenuation (v2.37, the console's `metal_slope` 0.16 and
  `metal_white` 0.6; the bags are v2.36's): under one power curve with the brightness floor,
  our metal spanned V 0.51-0.78 (10th-90th percentile of blue pixels, seed 3) against the real
  scans' 0.40-0.87, which blind readers named as "flat, even blue rails". Metal now falls 0.16
  in brightness for each unit of −ln T_high from the gain (about white) at 0.6, so thin metal
  is sky blue and thick or overlapping metal navy (0.38-0.88). Two readers preferred it in 6 of
  8 pairs each (0 and 1 against), noting that it also shows the grain of photon noise in dense
  metal.
- Webbed handle tubes, piping on the walls, open buckles (v2.38; each judged on its own):
  - `rail_webs`: a trolley's handle tubes were plain rectangular tubes, one even shade between
    their edge lines, where real rails show one or two thin dark lines running down inside
    them. Each tube is now an extrusion with one web (two rails in three, somewhat off the
    middle) or two, as thick as its walls and standing across its height, so seen from above
    each is edge-on, a dark line down the rail (`trolley._webs`, on random numbers of their
    own); the inner tube's profile is the outer's, scaled. Two readers preferred it in 8 of 8
    pairs each.
  - `piping_on_walls`: each face of a soft bag had its piping bulged its own way, the second's
    up to a few cm off the walls and never scaled to them, so a crisp line of another shape
    ran round the bag over white. Both faces' piping now run on the walls' edges, which join
    them. Readers preferred it in 7 of 8 and 5 of 8 pairs, none against.
  - `framed_buckles`: the buckles on a bag's faces and a belt's were `shell`s whose walls were
    over half their thickness, i.e. solid steel or brass plates, which blind readers named as
    "blue squares and diamonds like stickers". They are now open frames (`parts.frame`), a
    bag's with a bar across, as a ladder lock. Readers preferred it in 8 of 8 and 7 of 8.
- Green spinner tyres (v2.39, `spinner_tyres` filled rubber, Zeff 10.3; v2.32-v2.38:
  polyurethane, 6.6): a spinner's tyres read orange like the shell, where most real trolley
  wheels read green (rubber or TPR with chalk and carbon black fillers; some real ones are
  orange). Two readers preferred the green tyres in 8 of 8 pairs each.
- Webs in the inner tube only, metal floored (v2.40, `inner_webs`; the console's `metal_floor`
  0.2 and `metal_jitter`): v2.38's webs stood in both tubes of a rail, the outer's running
  through the inner, which could not then slide (a review found it), so a rail showed up to
  eight lines where they overlap; at thick walls or narrow tubes webs could stand out of the
  bore or overlap. Now only the inner tube carries them, each wholly in its bore, two less than
  a wall apart merged, none in a bore under two walls wide or high (`trolley._fitted`). v2.37's
  metal curve went below the console's floor to black in dense steel (black pixels 0.10 % →
  0.14 % of seed 3's, the real scans' 0.11 %): it is floored at 0.2 (0.105 %), and its slope
  varies per scan by the factor `gamma` does. Two readers preferred v2.40 to v2.39 in 5 of 8
  pairs each (1 against each): "one even channel, green in the middle and blue at the
  overlapping end, as real rails" against "3-4 separate thin tubes with light gaps".
- Heavier face fittings (v2.41, `heavy_fittings`): a bag's face D-rings were of 3 mm wire and
  its buckles' bars 3.5 by 3 mm, which at our pitch the detector's blur and the partial volume
  paint as hairline green outlines, "like plastic"; real luggage D-rings are of 4-6 mm wire and
  read as solid blue. Now 5 mm wire and bars 4.5 mm square. Two readers preferred it in 8 of 8
  and 7 of 8 pairs (one "the same"): "solid blue with dark navy edges" against "pale teal-green
  outlines". (Dropping a trolley's face straps altogether, tried first, both readers rejected.)
- Strewn hardware, fainter sharpening rims (v2.42, `trinket_hardware`; the console's
  `halo_keep` 0.5): a third of the strewn small pieces (`clutter.trinkets`) were lipsticks
  and USB sticks, some 16 of each in a bag, which blind readers named first among made-up
  shapes ("rectangles filled with one flat colour"). All but a tenth of them are now press
  studs, screws lying on their side (the T real scans show) and zip sliders, on random
  numbers of their own. Two readers preferred it in 6 of 8 and 8 of 8 pairs, none against.
  The console's unsharp mask put a bright rim of about 3 px round every dense item ("soft
  light halos around blue items"); the part of it above the brightest of a pixel's
  unsharpened 3×3 neighbourhood is now halved. Two readers preferred it in 5 of 8 and 4 of 8
  pairs (1 and 0 against); with no rim at all and the mask strengthened to keep the edge
  density, one preferred it 4 to 0 and the other split 3 to 3.
- Fewer strewn rings (v2.43, `trinket_rings` 0.3): a sixth of the strewn pieces were rings
  (zip pulls, key rings) of 1.2-2.4 cm, some 16 a bag, which at our pitch read as "faint thin
  hollow olive rings of similar size" and blind readers named among made-up shapes. Three in
  ten are kept, the rest hardware as v2.42's, on random numbers of their own again. Two
  readers preferred it in 8 of 8 and 7 of 8 pairs (one "the same").
- Charcoal, not black (v2.44, the console's `opaque_value` 0.14; the bags are v2.43's): what
  stops the beam was painted black (0, 0, 0), which readers named "saturated black blobs";
  the real scans' darkest pixels are a flat charcoal (mean RGB 35 / 37 / 34 under V 0.18) and
  not one in 80 million is under V 0.1. It is now a neutral grey of V 0.126-0.14. Two readers
  preferred it in 7 of 8 and 3 of 8 pairs, none against. Fading dense colour into the grey
  over a fourfold range of T, tried first, both rejected (0 of 8 against 7, 4 against 4):
  "real scans jump straight from saturated colour to flat dark patches".
- Organic hue by brightness (v2.45, the console's `organic_hue_slope` 28; the bags are
  v2.43's): the real scans' orange runs from a yellow-brown 53° at V 0.5 to a peach 35°
  above V 0.9 (medians of the 136 backgrounds by brightness band), ours, its hue from Zeff
  alone, from 44° to 39° ("mustard", "ochre", "khaki" to readers). Organic hue now moves 28°
  for each unit of brightness below 0.8, yellower where darker and redder where lighter:
  49° to 34°. Two readers preferred it in 5 of 8 (none against) and 4 of 8 (2 against); at
  36° (51° to 34°) in 4 of 8 and 7 of 8, but that took seed 7's edge ratio to 0.898.
- Zips of teeth (v2.46, `toothed_zips`): a zip on a face (a pocket's; a holdall's or
  backpack's main zip) was a round wire of 1.6-4 mm, one even line, where a real zip seen
  face-on is a chain of interlocked teeth. It is now one polygon (`shell._zip_chain`): a band
  4 mm wide whose edges step in and out by 1.2 mm every 1.5 mm, the two sides half a pitch
  out of step, 2.5 mm of metal. A trolley's main zip round its side walls, seen edge-on,
  stays a wire. Two readers preferred it in 7 of 8 pairs each, none against; a first try, 5.5
  mm wide and 1.5 mm thick, split them (8 of 8 for, 6 of 8 against: "a wide, lighter band
  with ragged edges").
- Cast face fittings (v2.47, `cast_fittings`): a bag's face D-rings were round rings (ten
  facets) and its buckles frames of square-cut bar with sharp corners, which blind readers
  named first ("hollow outlines of squares, circles, '日' boxes"), where pair readers wanted
  them kept (a hard shell's faces without them: 0 of 8 against 8, twice). A D-ring is now a D
  (an arc of its radius round 250° and the bar across), a buckle a loop of 4.5 mm round bar,
  3 by 2.2 cm, corners rounded by 5 mm, with a bar across that stops 1 mm short of it. Two
  readers preferred it in 6 of 8 and 8 of 8 pairs, none against.
- ABS/PVC hard shells (v2.48, `hard_shells`): a real hard case's rim, where the beam runs
  along its side walls, is a band of green lines; ours, all polycarbonate (Zeff 6.3), was tan.
  Of the outer 12 % of the bag's depth, real scans are green over 0.3 of it in 43 % of bags
  and ours in 8 % (seed 3, `realism.class_by_depth` per image). Half the hard shells are now
  thermoformed ABS/PVC sheet (50/50 by mass, Zeff 11.1, 1.20 g/cm³), drawn on random numbers
  of their own, their moulded edges, lips and ribs of the same: 27 % of bags. Two readers
  preferred it in 8 of 8 pairs each.
- Side handles (v2.49, `side_handles`): a trolley's carry handle was an ABS bar inside its
  side wall, which readers saw as "a flat, hard-edged darker slab". It is now a grip of filled
  rubber on a steel core, 1.6 cm thick, bowed 1.5-3 cm out of one long side between two ABS
  mounts 12-17 cm apart, each on the grip's steel pivot pin and held by two screws through
  the wall (`trolley._side_handle`, its own random numbers), as real scans show a side
  handle: two mounts with screws seen side-on and an arc standing out of the bag. Two readers
  preferred it in 6 of 8 and 8 of 8 pairs (2 against: an old bar alone read as "a strap seen
  edge-on"). Mounts of stamped steel first split them, 8 of 8 for and 8 of 8 against.
- Domed turrets (v2.50, `domed_turrets`): a swivelled spinner's turret was a flat ABS disc on
  the bag's bottom end, seen edge-on as a hard-edged rectangle, which the v2.49 blind reader
  named ("wheels as flat salmon tabs with dotted blue rivets"). It is now a hollow half
  ellipsoid, as moulded, 2.6 cm tall with 3.5 mm walls (`trolley._dome`): seen edge-on an
  arch whose rim fades in. Two readers preferred it in 8 of 8 pairs each.
- Polypropylene frame plates (v2.51, `frame_plates`): one trolley frame plate in three was
  PVC, 3 mm under nine tenths of the bag, which turned thin contents green; our bags' inner
  half was already greener than the real ones' (0.35 against about 0.26, seed 3), and
  removing the PVC plates alone turned 2.7 % of it orange. Every plate is now polypropylene,
  as trolleys' backing boards commonly are. Colour-class TV 0.075 / 0.062 / 0.050 → 0.060 /
  0.050 / 0.043 (seeds 0 / 3 / 7). Two readers preferred it in 8 of 8 and 5 of 8 pairs (3
  against): "the other lays a pale greenish haze over the interior".
- Cast belt buckles (v2.52, `cast_belt_buckles`): a belt's buckle was a frame of square-cut
  4.5 mm bars, the "thin hollow squares and diamonds" the v2.49 blind reader named. It is now
  a loop of 7 mm round bar, 4.5 by 5 cm over all, its corners rounded by 8 mm, with a prong
  of 3.6 mm across it, as belt buckles are cast (`clutter.belt`). Two readers preferred it in
  8 of 8 pairs each: "a thick, dark metal ring with rounded corners and soft edges, where the
  other is a thin, sharp-cornered rectangle that looks like CAD art".
- Line dips (v2.53, the scanner's `line_dips`, `dataset.SIM_SCANNER`): 7 of the 136 real
  backgrounds hold one band about 1 % of the image high, between 45 and 70 % of the way
  down, dimmed across its whole width, air included (tinted pale orange, RGB about 247 / 243
  / 229 against white): the tube's output dipped for a few lines and the reference detector
  did not correct it all. One scan in twenty now holds such a band (`scanner._line_dip`: a
  Gaussian over the lines, σ 0.3-0.5 % of the height, 5-12 % of the output lost at its
  middle, alike on every channel and at both energies; on random numbers of its own). Blind
  readers named its absence in two rounds. Not put to pair readers: at its real rate it
  changes two or three bags of 48. Ours is redder than the real band (hue about 28° against
  47°): an even dip at both energies reads as the thinnest organic.
- Fine Zeff (v2.54, the scanner's `zeff_fine`): Zeff was smoothed over σ 1 image pixel, and
  our pixels are about 1.5 mm (each bag fitted to its frame) against the detector's 0.8 mm,
  so thin metal's Zeff spread over twice the width physics.md's recipe means and its lines
  read green or teal (thin dark lines, seed 3: 0.21 blue, 0.65 green; real about 0.48 and
  0.31). Zeff is now smoothed over one detector pixel where T_high is above 0.35, over one
  image pixel below 0.15, blended between (`Scanner.display_zeff`): over one detector pixel
  everywhere, dense items speckled navy and teal, and readers split 8-0 and 3-5. Two readers
  preferred it in 8 of 8 pairs each: "frame wires solid, continuous blue, as real thin metal
  looks". Colour-class TV 0.060 / 0.050 / 0.043 → 0.049 / 0.040 / 0.030 (seeds 0 / 3 / 7).
- Piping wires (v2.55, `piping_wires`): half the soft bags carry a steel wire in their faces'
  piping, the frame that holds their shape; it was 1.6-3 mm across and read as a thin green
  line. Soft luggage frames are spring steel of 3-4.5 mm, and real soft bags show a blue
  outline all round (a reader: "the blue rim wire in the real scan"). It is now 3-4.4 mm
  (radius 0.15-0.22 cm; the same draws). Two readers preferred it in 8 of 8 pairs each: "solid
  blue frame lines with a dark core, like the real bag outlines".
- A tighter crop (v2.56, `fill` 1.03-1.09, `overrun` 0.045): a real export's content box spans
  the whole width and 0.98 of the height (medians), ours spanned 0.95 and 0.97, so our images
  held more white round the bag (background share, median per image, 0.026 / 0.060 / 0.037
  above the real scans' at seeds 0 / 3 / 7, over the target at seed 3). The bag's box may now
  run 4.5 % of the frame's width off each edge (was 3 %) and fills 1.03-1.09 of it: -0.014 /
  +0.028 / 0.000. And a garment's crumple draws its noise on random numbers of its own
  (`own_crumple`): drawn from the bag's own, a count that follows its window's size in pixels,
  it made a bag's contents hang on its pixel pitch, so no change to the framing or the fan
  could be shown to readers on the same bags.
- Rounded frame plates (v2.57, `rounded_plates`): a trolley's frame plate, 90 × 80 % of the
  bag, had square corners, which poke out of a shell of round corners (radius above about 10-13
  cm, by the bag's size) as straight-cut patches of faint cloth: a blind reader of v2.56 named
  "straight-cut orange rectangles poke out past the outline". It now has the shell's corners
  (radius), so it stays inside. Two readers preferred it in 8 of 8 pairs each.
- Handle tubes nearer the middle (v2.58, `rail_spacing` 0.34): a trolley's two handle tubes
  stood 0.6 of its width apart, near its walls; in the real scans they run through the bag's
  middle third, about 0.25-0.35 of its width apart. They now stand 0.34 of it apart (the grip's
  housing 1.1 times as wide; no numbers drawn). Two readers preferred it in 8 of 8 pairs each.
- Flush wheel housings (v2.59, `flush_housings`): an inline wheel's ABS box housing stood 0.6
  of the wheel's radius and 5 mm out of the trolley's end round it, a flat tan block beyond the
  outline ("flat tan blocks stick out past the shell", a blind reader of v2.58). It is now
  moulded into the end, its outer face flush with it; only the wheel and its axle stand out
  (its outer side still reaches about 1 cm into the rounded corner: see
  docs/simulator-realism.md). Two readers preferred it in 8 of 8 pairs each.
- A design of fittings per bag (v2.60, `varied_fittings`): every bag's face buckles were the
  same two-slot buckle of 3 × 2.2 cm, which a blind reader named "the identical double-square
  buckle rings" in almost every bag. Each bag now draws a design on numbers of its own
  (`shell._FittingDesign`): buckles of 0.8-1.3 times the usual scale, 1.2-1.6 times as long as
  wide (2.3-4.2 cm), three in five ladder locks and the rest plain loops; its D-rings, each of
  its own radius as before, scaled by the same factor. Two readers of whole sets
  (`--sets-with`) preferred it; pair readers, who see one part of one bag, 0 of 6 and 3 of 6
  (docs/simulator-realism.md).
- Dark metal teal and dull (v2.61, the console's `metal_hue_slope` 80 and `metal_dull` 1.7; the
  bags are v2.60's): metal's hue came from Zeff alone, so dense steel and a rail's edge-on
  walls were a saturated navy (blue pixels' hue median 204° and saturation 0.80 at V 0.2-0.3,
  seed 3), where the real scans' darkest metal is a dull teal (180°, 0.60), as a console whose
  Zeff under-corrects beam hardening paints it. On the brightness shown, the hue now turns 80°
  towards cyan per unit of V below 0.6 and the saturation loses 1.7 of itself per unit below
  0.4 (`colour._dark_metal`): 180° and 0.63. Two readers preferred it in 8 of 8 pairs each.
- Objects of interest square to the bag (v2.62, `aligned_hosts` 0.8): each was turned to any
  heading, so laptops and toasters lay across the bag at 20-45° as big slabs "at angles
  unrelated to the bag", the first cue of the readers who told our tiles apart at a glance. Four
  in five now lie within σ 7° (`HOST_ALIGN_SIGMA`) of the nearest quarter turn, chosen on
  numbers of their own; the bag's own draws are exactly as before, but with other headings the
  least covered of `host_spread` places, and the clutter packed round them, can differ. Both readers
  of whole sets preferred it; pair readers 6 of 6 decided and 3 of 8 (docs/simulator-realism.md).
- Cartons of food (`carton_share`, 0 by default: no version yet): a share of scans a carton of
  double-wall board (`shell.carton_parts`, flutes drawn by `_draw_carton`), each wall bowed out
  by the load, holding packs of nuts or sweets, boxed and loose rolls of biscuits, tins, jars,
  packs of grain and other food (`clutter.carton_goods`) and crumpled film (`clutter.wrapping`,
  `_draw_wad`), no clothes, as 8 of the 136 real backgrounds are; chosen on numbers of its
  own. Its cartons carry 0.7 of the real ones' edges, so at 0.06 the edge ratio falls below its
  target at one seed of three (docs/simulator-realism.md).
- Two bags in one scan (v2.64, `pair_share` 0.05, `_compose_pair`): one scan in twenty holds two
  bags side by side across the belt, both travelling lengthwise and put down square to it (within
  `max_angle_deg`), as 7 of the 136 real backgrounds do (two cabin trolleys put on the belt
  together; five of the seven frames square). Each is 0.75-0.95 of its kind's
  usual size, turned by up to 6° on its own and packed as a single bag is, with some of the
  objects of interest; posed as one box that holds both as turned and a trolley's wheels and
  fills the frame (stretched with it by up to 1.3 a side), so both share the scan's pitch and
  fan, they stand 0-2 cm apart between what each spans across the pair, never one inside the
  other. Chosen on numbers of their own: every other scan is v2.63's. Pair readers (7
  real pair scans, 7 of ours) told them apart 14 of 14 while the bags could overlap, 10 of 14
  once they stood apart (docs/simulator-realism.md).
- Cloth with a grain (v2.65, `cloth_weave` 0.15, `_weave`): each garment's cloth thickness varies
  by σ 0.15 over about 1.5 mm, the mass kept, on numbers of its own: a stack of garments is
  uneven from one millimetre to the next (weave, knit, lint, seams). The real scans' orange is
  grainy at the pixel scale (`realism.organic_grain` 0.0108), v2.64's was smooth (0.0079-0.0085;
  v2.65 0.0093-0.0105); both pair readers chose v2.65 in every pair they decided (8 of 8).
- The export turned a quarter (v2.66, `belt_across_image`, `_turned_export`): the bag is drawn
  as before, the belt down the frame, then exported turned a quarter clockwise, so the belt
  runs across the image and the fan's spread down it, its source's side (`fan_apex`, now
  always the same side: `fan_apex_mirror` off) at the top. Measured on the 136 backgrounds
  (per image, mean V 8-40 px inside the bag's outline, `realism._band_figures`): their left and
  right sides are dark and alike (darker 0.768, lighter 0.804 by the medians; 0.034 apart),
  their top and bottom ends paler and unlike, the bottom's paler in 74 % (0.829 top, 0.877
  bottom): the far face's band at the bottom. v2.65 had it the other way round (sides 0.81 and
  0.92, one far wider than the other; ends alike, 0.02 apart). The real exports are 77 %
  portrait, so most bags travel across the belt (`lengthwise_share` 0.15: 75 % portrait, seed
  3); whether the real scanners turn their exports or their bags travel across cannot be told
  from the images, and the images are what is matched. Pairs travel across the belt too, so
  that turned they stand side by side across the image as the real ones do.
- Clothes pressed into the walls (v2.66, `clothes_to_walls` 6 cm, `_wall_cut`): garments are
  laid up to 6 cm past the inner walls and cut there at their own height (the fan shows a
  wall at each height elsewhere), their cloth thickened by what is cut off (at most 1.5 times,
  `WALL_FOLD_MAX`), so the band the fan shows the side walls in holds clothes at every height,
  as a packed bag's does; v2.65's garments stayed inside the walls, their mass in the middle
  (the outer tenth of a bag's depth held 0.05-0.1 cm of cloth, its inner half 0.8-2.6 cm).
- The export cut at the bag's ends along the belt (v2.66, `crop_along_belt`): a line scanner's
  export begins and ends with the bag, so the bag's box (handles' room and wheels included) is
  centred that way and runs off both ends alike; across the belt it lies anywhere `overrun`
  allows. The real bags' boxes span 0.997-1 of the image along the belt (v2.65: 0.95-0.99).
- The source at the other side now and then (v2.67, `fan_apex_flip` 0.15): in one scan in seven
  the fan's source sits at the image's bottom, chosen on numbers of its own. The real scans'
  bottom end is paler than the top by 0.03 or more in 62 %, the top in 14 %; v2.66's in 94 %
  and 0 %, v2.67's in 73 % and 19 % (144 bags, seed 3).
- Fewer shoes, trainers on foam (v2.68, `FEWER_SHOES_MIX`, `eva_soles`): v2.12-v2.67 packed
  four or five pairs of shoes in a mid-sized trolley (`HEAVY_MIX`'s 2.0 of some 16.6), where
  one or two is usual; now about one and a half (0.6). A pair is some 30 × 22 cm, so a bag's
  room left it nowhere but the middle, and its soles were filled rubber, whose zinc oxide and
  chalk (3 % and 10 %) put it at Zeff 10.3: the bag's inner half was 0.40-0.42 green against
  the real scans' 0.28 (orange 0.40 against 0.60). A trainer's sole (three pairs in five) is
  now 65 % of its mass foamed EVA (Zeff 5.7) and 35 % its rubber tread, as built: 2-3 cm of
  foam at 0.2-0.3 g/cm³ over 3-4 mm of rubber (est.).
- Bags packed lightly or full (v2.69, `fullness` 0.4-1.3): how much a bag holds for its size
  now varies from bag to bag. One factor, drawn on numbers of its own, scales its garments,
  clutter and packed fill together (a carton's wadding and goods), as one owner packs half a
  bag and another sits on the lid. Before, each count was drawn on its own over a narrow
  range, so every bag was about as packed: the lightest tenth of v2.68's bags was 0.095-0.109
  dense (darker than V 0.6; 144 bags, seeds 0 / 3 / 7), the real scans' 0.063, v2.69's
  0.060-0.079. The real bags leave more places holding only clothes: of a bag's 4-cm blocks, a
  median 0.34 are under 5 % dense (`clear_block_share`), v2.68's 0.25-0.27, v2.69's 0.32.
- A design of handle tubes per trolley (v2.70, `varied_rails`): every trolley's two tubes stood
  0.34 of its width apart, the outer ones 0.92 of its length long and the inner ones 0.6, so
  readers named "twin rails too alike" in bag after bag. In the real backgrounds they stand
  0.3-0.45 of the bag's width apart and reach about 0.75-0.9 of its length (by eye, 18 bags).
  Each trolley now draws its maker's design on numbers of its own (`trolley._RailDesign`):
  0.28-0.46 apart (the grip as wide as before for its spacing), the outer tubes 0.76-0.92 of the
  length down from the grip's end, the inner ones 0.55-0.75 of that, the feet and lock clips at
  those ends. Two readers of whole sets preferred it, at low confidence ("vary more from bag to
  bag"); both still found the rails too alike.
- Handle tubes' walls per trolley (v2.71, `rail_walls` 0.5-1.0): every trolley's tubes had
  walls of 2 × 0.5 mm of steel (or 2 × 1.2 mm of aluminium), which read as solid, even, dark
  blue bars; many real rails read as hollow tubes, dark edges (the walls seen edge-on) round a
  paler, greener middle. Each trolley now draws its walls' share with its design (after the
  rest of it, so the tubes stand and reach as in v2.70): thin walls let the middle go teal.
  Two readers of whole sets preferred it (low, and low to medium: "lighter and partly green or
  teal along their length ... like hollow aluminium tubes").
- Moulded buckles (v2.72, `plastic_buckles` 0.5): every bag's face buckles were loops of steel
  bar, which readers kept naming as "thin hollow outline shapes ... like wireframes", "8"-shaped
  pairs of blue squares. Luggage buckles are as often moulded plastic (nylon or acetal, faint
  organic loops) as metal: 7 of 12 real backgrounds looked at show metal loops on their faces or
  straps, and every bag of ours did. Half the makers (`_FittingDesign`, drawn after the rest of
  the design) now mould theirs of nylon; D-rings and studs stay steel.
- Yellower thick organics (v2.73, the console only: `colour.SIM_STYLE_V2_73`, the bags are
  v2.72's): readers named our clothes "muddy brown-ochre" where the real scans' are a brighter
  orange; by brightness band the real orange's median hue is 54.5 / 44.0 / 37.3°, v2.72's
  46.9 / 41.3 / 37.1° (seed 0, 144 bags). The organic hue now turns 50° a unit of V about 0.85
  (was 28° about 0.8), which gives 52.4 / 44.2 / 36.9°.
- Less pale peach (v2.74, the console only: `colour.SIM_STYLE_V2_74`): readers of v2.73 named
  "pale, washed-out peach" in large smooth areas; above V 0.9 lay 0.36 of our
  orange against the real 0.29, and under V 0.6 0.03 against 0.06. The brightness curve's
  `gamma` (fitted at 0.45 when the bags were emptier) is now 0.5: 0.31 and 0.05.
Each version stays reproducible to the bit from its pin: configs/synth/sim_v2_0.yaml,
sim_v2_2.yaml, sim_v2_4.yaml, sim_v2_5.yaml, sim_v2_6.yaml, sim_v2_7.yaml, sim_v2_8.yaml,
sim_v2_9.yaml, sim_v2_10.yaml, sim_v2_11.yaml, sim_v2_12.yaml, sim_v2_13.yaml,
sim_v2_14.yaml, sim_v2_15.yaml, sim_v2_16.yaml, sim_v2_17.yaml, sim_v2_18.yaml,
sim_v2_19.yaml, sim_v2_20.yaml, sim_v2_21.yaml, sim_v2_22.yaml, sim_v2_23.yaml,
sim_v2_24.yaml, sim_v2_25.yaml, sim_v2_26.yaml, sim_v2_27.yaml, sim_v2_28.yaml,
sim_v2_29.yaml, sim_v2_30.yaml, sim_v2_31.yaml, sim_v2_32.yaml, sim_v2_33.yaml,
sim_v2_34.yaml, sim_v2_35.yaml, sim_v2_36.yaml, sim_v2_37.yaml, sim_v2_38.yaml,
sim_v2_39.yaml, sim_v2_40.yaml, sim_v2_41.yaml, sim_v2_42.yaml, sim_v2_43.yaml,
sim_v2_44.yaml, sim_v2_45.yaml, sim_v2_46.yaml, sim_v2_47.yaml, sim_v2_48.yaml,
sim_v2_49.yaml, sim_v2_50.yaml, sim_v2_51.yaml, sim_v2_52.yaml, sim_v2_53.yaml,
sim_v2_54.yaml, sim_v2_55.yaml, sim_v2_56.yaml, sim_v2_57.yaml, sim_v2_58.yaml,
sim_v2_59.yaml, sim_v2_60.yaml, sim_v2_61.yaml, sim_v2_62.yaml,
sim_v2_63.yaml, sim_v2_64.yaml, sim_v2_65.yaml, sim_v2_66.yaml, sim_v2_67.yaml,
sim_v2_68.yaml, sim_v2_69.yaml, sim_v2_70.yaml, sim_v2_71.yaml,
sim_v2_72.yaml, sim_v2_73.yaml, sim_v2_74.yaml (today's defaults).
What it still does not do: items that deform one another; black where dense items overlap (the
real scans show 0.1 % black pixels, v2.4 0.4-0.7 %, v2.5 0.2-0.4 %, v2.7 0.1-0.3 %, v2.11
0.08-0.11 %, v2.12 0.08-0.19 %, v2.13 0.09-0.25 %, v2.19 0.11-0.17 %; per bag, most of ours
hold a few black specks where small dense things overlap, a median 4 times the real scans');
the real scans' greens in the mid brightnesses (V 0.6-0.8: real 51 % orange, v2.13 64-68 %;
v2.13's content is as dark as theirs, 52 % darker than V 0.8 against 55 %, v2.12 46-48 %);
hard-edged metal parts of even fill, clip-art rings and discs strewn through the bag, and metal
of one flat shade where real hardware shows dark outlines round lighter cores (v2.24 lifted its
brightness to the real scans' median and v2.37 spread it as theirs, but a part of even
thickness is still one shade); the concentric lines of the walls, which readers see as "stacked
rings", though readers preferred them to fewer ribs; clothes as dense, crumpled masses: v2.20's
creases moved readers towards ours, but they still see smooth gradients crossed by straight
parallel stripes (rolled clothes' streaks) where real cloth is mottled. Since v2.16 the
console's local contrast gives the rims the real scans' edges (per-image medians, rim / core:
real 0.23 / 0.17, v2.11 0.18-0.20 / 0.21-0.23, v2.19 0.21-0.22 / 0.20-0.22, v2.20 0.20-0.22 /
0.21-0.23, v2.25 0.20-0.21 / 0.20-0.22), so the middles still carry more than theirs. The
colours by brightness: the real scans' dense organics are a vivid orange that ours turn brown
or olive, and their thinnest content near-white cream where ours is peach (v2.21-v2.24 made air
white, thin mixtures orange, light greens sage and metal lighter; readers still name these).
Objects of interest (0-4 a bag) are drawn as built, often large flat metal boxes, which real
benign bags seldom hold. A blind reader still tells simulated bags from real ones: 24 of 24
tiles on a shuffled sheet of v2.30 (2026-12-04), and of v2.32 (2026-12-05), by the speckled rim
with thin outlines off it, the flat, even blue rails and clip-art shapes, the shell's thin
parallel outlines and (until v2.32) the wheels' T-shaped stubs; strands across the wall cloth,
forked spinners and round handle tubes were each liked less than v2.30's own by a reader side
by side (docs/simulator-realism.md). At a glance (v2.65 and v2.66, 1,200-px sheets of 24 real
and 24 of ours, nine readers each) our tiles are still told apart 29 times in 48 (chance 24): by
v2.65's the flat blue blocks of the objects of interest, the stacked outlines and the
template-like rails; by v2.66's the bags' tilt (the real bags are turned as much or more), the
rails and the tidy fills, the stacked outlines named once. Two bags
are always side by side and square to the belt, never staggered along it as the real turned
pair is. Our scans are lossless where the real ones are JPEG of quality 75 with 4:2:0 chroma;
a detector trained on ours does not meet their blocks and chroma bleed.
Simulator v2.0 (demo model v2's data, `configs/synth/sim_v2_0.yaml`) packed 12-26 items and
kept the bags' drawn sides: edge density 0.76 of the real scans' against 0.98 for v2.7, both
counted at 640 px wide (the benchmark's rule before v2.8).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace

import cv2
import numpy as np

from engine.config import ConfigError
from engine.synth.clutter import (
    as_cotton,
    carton_goods,
    random_clutter,
    rolled_clothes,
    wrapping,
)
from engine.synth.materials import MATERIALS
from engine.synth.objects import (
    ANOMALY_TYPES,
    CATEGORIES,
    DesignCounts,
    build,
    draw,
    insert_anomaly,
)
from engine.synth.parts import (
    ObjectModel,
    outline_sheet,
    own_rng,
    place,
    rounded_rect,
    side_rng,
)
from engine.synth.scanner import Scanner
from engine.synth.shapes import Canvas, Cylinder, FanBeam, Part, Sheet, rotation
from engine.synth.shell import CARTON_CORNER, shell_parts

BAG_KINDS = ("trolley", "holdall", "backpack", "briefcase")
# (length, width, depth) ranges in cm, the shell's material and wall (est.)
_BAG_SIZES = {
    "trolley": ((50, 68), (37, 48), (20, 28)),
    "holdall": ((45, 62), (30, 40), (22, 30)),
    "backpack": ((38, 50), (29, 37), (14, 22)),
    "briefcase": ((36, 45), (28, 35), (7, 13)),
    "carton": ((40, 60), (30, 45), (25, 40)),  # `carton_share`: a box of food or goods
}
_CARTON_GOODS = (10, 16)  # how many items (`clutter.carton_goods`) a mid-sized carton holds,
_CARTON_WADDING = (4, 8)  # and how many wads of crumpled film pad them (`clutter.wrapping`)
FIT_MAX_GROWTH = 1.3  # v2.8 (lengthwise bags): no side of a bag is drawn longer than this to
# fill the frame (`_fit_projection`), nor the bag longer than FIT_MAX_ASPECT × its width (the
# real bags' tightest rectangles: at most 1.78)
FIT_MAX_ASPECT = 1.7
# cm³: what `BagConfig.garments` and `clutter` fill (`fill_by_volume`), a mid-sized trolley's
_PACKED_VOLUME = float(np.prod([np.mean(r) for r in _BAG_SIZES["trolley"]]))


# v2.12's clutter mix (`BagConfig.clutter_mix`): pairs of shoes, wash bags and food (jars and
# packs of grain among it, `heavy_goods`) two to three times as often as in `clutter.CLUTTER`,
# so a bag holds more organic mass and fewer strewn small things. Real bags are darker than
# v2.11's (content brightness 0.75 against 0.79-0.80) and their dark pixels orange or green
# where v2.11's were blue metal; books stay as they were, as more of them made the bags olive
# (docs/simulator-realism.md).
HEAVY_MIX: tuple[tuple[str, float], ...] = (("shoe", 2.0), ("toiletry_bag", 1.5), ("food", 2.0))
# v2.14's: v2.12's, and umbrellas at 0.15 against `CLUTTER`'s 0.4: v2.12-v2.13's bags held about
# one each on average and some four (51 in seed 3's 48 bags; v2.14: 13)
PACKED_MIX: tuple[tuple[str, float], ...] = (*HEAVY_MIX, ("umbrella", 0.15))
# v2.68's: v2.14's with pairs of shoes at 0.6 against 2.0, about one pair and a half in a
# mid-sized trolley where v2.12-v2.67 packed four or five, which piled in its middle (a pair is
# 30 × 22 cm) and, with rubber soles, made it green (the inner half of the bag 0.40-0.42 green
# against the real scans' 0.28; 0.35 with these, seed 3)
FEWER_SHOES_MIX: tuple[tuple[str, float], ...] = (("shoe", 0.6), *PACKED_MIX[1:])


# cm: how far beyond a trolley's bottom end the frame holds (`wheels_at_end`): its wheels'
# turrets. The tyres stand out up to `trolley.END_WHEEL_REACH` and may run off the frame as far as
# faint rims and handles may: holding all of them left a band of white along the end, and the
# background share 0.04-0.07 over the real scans' (where readers never saw a wheel cut off)
WHEEL_REACH = 4.0
# `cloth_weave`: the grain of a stack of cloth (cm across), which a pixel coarser than 0.25 cm
# (a frame fitted to a large bag) draws as a pixel's grain
WEAVE_CM = 0.15
# `pair_share`: two bags in one scan are each this share of their kind's usual size (the real
# pairs are cabin trolleys), stand this far apart (cm, between what each spans across the pair
# as turned; the fan's oblique view can still lay one's wall band over the other) and are each
# turned on their own by up to this much (degrees)
PAIR_SCALE = (0.75, 0.95)
PAIR_GAP_CM = (0.0, 2.0)
PAIR_TURN_DEG = 6.0


@dataclass(frozen=True)
class BagConfig:
    """What goes into a bag and how it lies on the belt; all randomised per bag from the seed."""

    width: int = 640
    height: int = 480
    pitch_cm: float = 0.08  # the finest image pixel (the detector's); coarser to fit the bag
    fill: tuple[float, float] = (1.03, 1.09)  # the bag's box against the frame: cropped tight,
    # as a scanner's export is; its faint rims may run just off the edge (v2.0-v2.4: 1.0-1.06,
    # v2.5-v2.9: 1.04-1.1; with v2.10's trolleys, 1.04-1.1 left seed 0's background share at
    # -0.057 of the real scans', outside its target; v2.10-v2.14: 1.02-1.08, which with v2.15's
    # rounder corners left it at -0.049; v2.15-v2.28: 1.01-1.07, in a frame of fixed shape;
    # v2.29: 0.99-1.05, before a trolley's frame held its wheels at one end; v2.30-v2.55:
    # 1.0-1.06, which left the real exports' tighter crop: their content's box spans 1.0 of
    # the width and 0.98 of the height at the median, ours 0.95 and 0.97)
    overrun: float = 0.045  # how far the bag's box may run off each edge of the frame, a share
    # of the frame's width on every edge: `fill` beyond 1 + 2 × this across is capped by it, a
    # little more along a portrait frame (v2.0-v2.55: 0.03)
    own_crumple: bool = True  # a garment's crumple drawn on random numbers of its own
    # (`_draw_garment`), so a bag's contents do not hang on its pixel pitch; False: from the
    # bag's own, a count that follows the garment's window's size in pixels (v2.0-v2.55)
    min_objects: int = 0
    max_objects: int = 4
    anomaly_share: float = 0.5
    categories: tuple[str, ...] = CATEGORIES
    anomaly_types: tuple[str, ...] = ANOMALY_TYPES
    designs: DesignCounts = field(default_factory=DesignCounts)  # product designs per class
    packed_poses: bool = True  # items as packed (`packed_pose`); False: all flat as built
    clutter: tuple[int, int] = (26, 46)  # how many clutter items besides clothes in a mid-sized
    # trolley (`fill_by_volume`; v2.0: 12-26, v2.1-v2.4: 28-50 in any bag, v2.5-v2.10: 38-66,
    # which readers saw as dozens of small things strewn evenly, a parts bin)
    garments: tuple[int, int] = (7, 16)  # packed clothes fill a real bag (sixray_benign;
    # v2.0: 10-22, a pile too thick where they overlap, half of all black pixels)
    stacked_clothes: bool = True  # garments lie along or across the bag, reaching its walls;
    # False: at any heading, so they pile up in the middle (v2.0)
    cables: float = 1.2  # how often a clutter item is a cable, against `clutter.CLUTTER`'s
    # other frequencies (v2.0-v2.2: 3.5, a cable in every fifth item, thin lines everywhere;
    # v2.3-v2.10: 2.0, coils of loops all over the middle)
    clutter_mix: tuple[tuple[str, float], ...] = FEWER_SHOES_MIX  # (kind, frequency) pairs
    # replacing `clutter.CLUTTER`'s frequencies, e.g. fewer trinkets: ((trinkets, 2.0),); a mix
    # given replaces this one whole. (): `CLUTTER`'s own (v2.0-v2.11); `HEAVY_MIX`: v2.12-v2.13
    corner_points: int = 9  # points round each rounded corner of the shell's outline, which
    # its walls, piping, zip and ribs follow (`shell.shell_parts`): facets of 11.25°; 5
    # (v2.0-v2.14): 22.5°, which readers saw as piping turning a corner in straight segments
    wire_guards: bool = True  # a toaster's slot guards as built, cages of steel wire
    # (`objects.toaster`); False: solid plates that the beam sees edge-on as black lines, a
    # quarter of seed 0's black pixels (v2.0-v2.18)
    folded_umbrellas: bool = True  # umbrellas as built: telescoped shaft, ribs folded unevenly
    # round it (`clutter.umbrella`); False: eight ribs evenly round it, a ladder (v2.0-v2.13)
    wound_coils: bool = True  # chargers' transformers as built: an E-core with half-filled
    # windows (`clutter._charger_parts`); False: solid ferrite in solid copper (v2.0-v2.4)
    coiled_cables: bool = True  # most cables wound in loose coils; False: random walks (v2.2)
    heavy_goods: bool = True  # shoes come in pairs, three in five trainers on foam soles, and
    # food also as jars and packs of grain (`clutter.shoes`, `clutter.food`); False: one shoe,
    # light food only (v2.0-v2.11)
    fanned_keys: bool = True  # a bunch of keys hangs to one side of its ring (`clutter.keys`);
    # False: at any angle round it, a pinwheel readers call made-up (v2.0-v2.10)
    shell_corners: tuple[float, float] | None = (6.0, 14.0)  # the shell's corner radius (cm):
    # rounded, and a soft bag's sides bulge (sixray_benign); None: a box (v2.0-v2.2)
    spread: int = 4  # places tried for each rigid clutter item, the least packed one taken
    # (`_Load`), as a packer fills the gaps; 1: the first drawn, so clutter piles up on the
    # clothes in the middle, where overlapping metal turns black (v2.0-v2.3)
    against_walls: bool = True  # every item (clothes, clutter, objects) lies against the bag's
    # walls as often as anywhere else (`_fit`), as packed; False: its centre drawn evenly over
    # the room its box leaves, which covers the middle most and the walls least (v2.0-v2.26:
    # the bag's inner half was 0.49 green against the real scans' 0.28, seed 0)
    eva_soles: bool = True  # a trainer's sole (three pairs in five) is mostly foamed EVA over
    # its rubber tread (`clutter.shoes`), the same mass; False: all filled rubber, whose zinc
    # oxide and chalk put it at Zeff 10.3, green, so a bag's pairs of shoes made its middle
    # green (v2.0-v2.67)
    bag_kinds: tuple[str, ...] = BAG_KINDS
    trolley_share: float = 0.9  # most checked bags are trolleys: by eye ~9 in 10 of
    # sixray_benign's backgrounds show a trolley's handle rails or wheels (v2.0-v2.9: half)
    frame_plates: tuple[str, ...] = ("polypropylene",)  # a trolley's frame plate, one drawn:
    # PVC reads green; with two in three PVC (v2.0-v2.9) the plate made 0.045 of a trolley's
    # pixels green, and one in three (v2.10-v2.50) 2.7 % of a bag's inner half
    # (`realism.class_by_depth`), already greener than the real bags' (v2.51)
    frame_fit: tuple[float, float] | None = (1.0, 1.12)  # the bag's sides are chosen so its
    # image, stretched across the belt by the fan, is at most this much wider (by width/height)
    # than the frame: an export is cropped to the bag both ways (sixray_benign: bag box ≈ 0.99
    # of the image); None keeps the sizes as drawn
    max_angle_deg: float = 10.0  # the bag's turn on the belt: about half lie along it ...
    turned_share: float = 0.45  # ... the rest are turned by `min_turned_deg` to `max_turned_deg`
    # (sixray_benign, the turn of the bag's tightest rectangle: 27 % under 4°, 23 % beyond 32°;
    # v2.5-v2.28: half by up to 35°, the rest by up to 8°, which gave 3 % beyond 32°;
    # v2.0-v2.4: one in seven)
    max_turned_deg: float = 40.0
    min_turned_deg: float = 12.0  # 0: a turned bag's turn from 0 (v2.0-v2.28)
    frame_to_bag: tuple[float, float] | None = (0.57, 1.45)  # the frame takes the shape of the
    # bag's image, its width over height clipped to this range, with `width` × `height`'s pixel
    # count: a real export is the bag's box (sixray_benign: 0.57-1.43, 77 % portrait); the bag
    # is shaped by `frame_fit` first. None: every frame `width` × `height` or turned, so a
    # turned or squat bag leaves white bands (v2.0-v2.28)
    wheels_at_end: bool = True  # a rounded trolley's wheels stand on its bottom end, as on a
    # case lying on its back: a pair at one end of its image, sticking out of it (sixray_benign).
    # False: one on each corner of the outline (v2.0-v2.29)
    swivel_wheels: bool = True  # with `wheels_at_end`, each spinner stands turned as it swivelled
    # (its tyres edge-on, seen round or between), with steel bearings in its hub and turret
    # (`trolley._swivelled`); False: all turned alike, a steel pin out to a bare axle, which a
    # blind reader saw as T-shaped stubs (v2.30-v2.31)
    rail_fittings: bool = True  # a trolley's handle tubes stand on steel feet, screwed down,
    # with rivets and a lock clip (`trolley._rail_fittings`); False: bare tubes (v2.0-v2.33)
    rail_webs: bool = True  # a trolley's handle tubes are extrusions with one or two webs
    # inside (`trolley._webs`); False: plain rectangular tubes (v2.0-v2.37)
    piping_on_walls: bool = True  # a soft bag's piping runs along its walls on both faces
    # (`shell.shell_parts`); False: each face's bulged its own way, off the walls (v2.0-v2.37)
    framed_buckles: bool = True  # buckles on a bag's faces and belts are open frames
    # (`parts.frame`); False: solid metal plates (v2.0-v2.37)
    spinner_tyres: str = "rubber"  # a trolley's swivelled spinners' tyres: filled rubber,
    # green as real wheels show (`trolley._swivelled`); polyurethane: orange (v2.32-v2.38)
    inner_webs: bool = True  # only the inner handle tube carries `rail_webs`, the outer's bore
    # plain for it to slide in (`trolley._fitted`); False: both, through each other (v2.38-v2.39)
    heavy_fittings: bool = True  # a bag's face D-rings of 5 mm wire, its buckles' bars 4.5 mm
    # square (`shell.shell_parts`); False: 3 mm wire, bars 3.5 by 3 mm (v2.0-v2.40)
    trinket_hardware: bool = True  # strewn lipsticks and USB sticks, all but a tenth, are
    # press studs, screws and zip sliders instead (`clutter.trinkets`); False: a third of all
    # strewn pieces lipsticks and USB sticks (v2.0-v2.41)
    toothed_zips: bool = True  # a zip on a bag's face is a chain of interlocked teeth
    # (`shell._zip_chain`); False: a round wire, one even line (v2.0-v2.45)
    cast_fittings: bool = True  # a bag's face D-rings D-shaped, its buckles rounded loops of
    # round bar (`shell._cast_d_ring`, `shell._cast_buckle`); False: round rings and
    # square-cut frames (v2.0-v2.46)
    hard_shells: tuple[str, ...] = ("polycarbonate", "abs_pvc")  # the plastics a hard shell
    # is moulded of, one drawn (`shell.shell_parts`): ABS/PVC sheet's side walls, seen edge-on,
    # make the green rim of real hard cases; polycarbonate alone: a tan one (v2.0-v2.47)
    side_handles: bool = True  # a trolley's side handle a grip bowed out of the wall between
    # two mounts (`trolley._side_handle`); False: an ABS bar inside the wall (v2.0-v2.48)
    domed_turrets: bool = True  # a trolley's swivelled spinners' turrets hollow domes
    # (`trolley._dome`); False: flat discs, hard-edged tabs seen edge-on (v2.32-v2.49)
    cast_belt_buckles: bool = True  # a belt's buckle a loop of 7 mm round bar with rounded
    # corners (`clutter.belt`); False: a frame of square-cut 4.5 mm bars (v2.38-v2.51)
    piping_wires: tuple[float, float] = (0.15, 0.22)  # the radius (cm) of the steel wire in a
    # wired soft bag's piping, the frame that holds its faces' shape (`shell.shell_parts`):
    # spring steel of 3-4.5 mm, blue all round as real soft bags show; 0.08-0.15, green
    # (v2.0-v2.54)
    rounded_plates: bool = True  # a rounded trolley's frame plate has the shell's round corners
    # (`trolley.trolley_frame`); False: a square plate, whose corners poke out of the shell's
    # as straight-cut corners of faint cloth (v2.0-v2.56)
    rail_spacing: float = 0.34  # a trolley's handle tubes this share of its width apart
    # (`trolley.trolley_frame`), as the real scans show them, in its middle third; 0.6: near its
    # walls (v2.0-v2.57). Unused with `varied_rails`, whose designs draw their own
    flush_housings: bool = True  # an inline wheel's housing moulded into the trolley's end,
    # its face flush with it, only the wheel standing out (`trolley._end_wheel`); False: the box
    # stands out of the end round the wheel, a flat block beyond the outline (v2.0-v2.58)
    varied_fittings: bool = True  # each bag's face buckles follow a design of its own, its
    # D-rings scaled with them (`shell._FittingDesign`): size, proportions, a bar across or none;
    # False: every bag's alike, the same two-slot buckle in each, which a reader of whole sets
    # called "one repeated part template" (v2.0-v2.59)
    varied_rails: bool = True  # each trolley's handle tubes follow a design of their own
    # (`trolley._RailDesign`, on numbers of their own): 0.28-0.46 of its width apart, in place
    # of `rail_spacing`, reaching 0.76-0.92 of its length; False: every trolley's the same pair
    # (v2.0-v2.69), "twin rails too alike" to readers in bag after bag
    rail_walls: tuple[float, float] = (0.5, 1.0)  # with `varied_rails`, each trolley's handle
    # tubes' walls this share of `tube_walls`, drawn with its design: thin-walled tubes read as
    # hollow, dark edges round a paler middle, as many real rails do; (1, 1): every trolley's
    # as `tube_walls`, solid bars (v2.0-v2.70). Unused without `varied_rails`
    plastic_buckles: float = 0.5  # the chance that a bag's maker moulds its face buckles of
    # nylon, drawn with its fitting design (`shell._FittingDesign`; with `varied_fittings` and
    # `cast_fittings`): faint organic loops, where steel ones read as blue wireframe squares.
    # About half the real backgrounds show metal loops on their faces (7 of 12 looked at); every
    # bag of ours did. 0: every bag's steel (v2.0-v2.71)
    aligned_hosts: float = 0.8  # the share of objects of interest packed along or across the
    # bag (heading within σ `HOST_ALIGN_SIGMA` of a quarter turn, chosen on numbers of their own,
    # `_fit`), as a packer lays a laptop or an iron square to the walls; the rest at any heading.
    # 0: all at any heading (v2.0-v2.61), which readers saw as slabs "at angles unrelated to
    # the bag"
    carton_share: float = 0.0  # the share of scans that are a carton of food or goods, not a
    # bag (`shell.carton_parts`, `clutter.carton_goods`), chosen on numbers of their own, so the
    # bags stay as they were; 8 of sixray_benign's 136 backgrounds are cartons. A carton ignores
    # `bag_kinds`, `garments` and `clutter`: set 0 where those matter. Not yet the default: at
    # 0.06 the edge ratio falls below 0.9 at one seed of three (docs/simulator-realism.md,
    # "Cartons of food")
    pair_share: float = 0.05  # the share of scans that hold two bags side by side across the
    # belt, both travelling lengthwise (`_compose_pair`), chosen on numbers of their own, so the
    # other scans stay as they were: 7 of sixray_benign's 136 backgrounds. 0: one bag a scan
    # (v2.0-v2.63)
    trinket_rings: float = 0.3  # the share of strewn rings (zip pulls, key rings) kept, the
    # rest hardware (`clutter.trinkets`); 1: all, some 16 a bag (v2.0-v2.42)
    lengthwise_share: float = 0.15  # bags that travel with their long side along the belt
    # (as drawn, the image's rows; turned for export, its columns), the rest across it; the
    # frame (`width` × `height` or turned) follows the shape of the bag's image, so with
    # `belt_across_image` 75 % come out portrait (seed 3), as 77 % of sixray_benign's exports
    # are (v2.8-v2.65: 0.95, the belt down the image). 0: the frame as configured, the long side
    # across the belt bar a tenth turned (v2.0-v2.7)
    belt_across_image: bool = True  # the scan is exported turned a quarter clockwise, so the
    # belt runs across the image and the fan's spread down it, its source at the top: the real
    # exports show a bag's two faces apart down the image, the far face's band at the bottom (the
    # bottom end's band lighter than the top's in 74 % of the 136 backgrounds; left and right
    # alike, 0.034 apart), where the belt running down the image (v2.0-v2.65) put it at the left
    # or right (0.11 apart) and kept the ends alike (0.02). `lengthwise_share` keeps its meaning:
    # along the belt, now across the image (`_turned_export`)
    crop_along_belt: bool = True  # the export begins and ends with the bag along the belt, as
    # a line scanner's does: the bag's image centred that way, its box (handles' room and wheels
    # included, `_hull`) running off both ends alike by what `fill` leaves over, so the shell
    # itself may stop a few pixels short of one end; False: anywhere `overrun` allows (the real
    # bags' boxes span 0.997-1 of that side of the image; v2.65 0.95-0.99, v2.66 0.95-1)
    fan_stretch: tuple[float, float] = (1.1, 1.3)  # across-belt stretch at the belt (physics §1)
    fan_source_cm: float = 100.0
    fan_lean: tuple[float, float] = (0.1, 0.35)  # the fan plane's lean along the belt
    # (`FanBeam.shear`, either way), drawn per bag; (0, 0): an upright fan (v2.0-v2.4). Real scans
    # show a bag's two faces apart, joined by its side walls (sixray_benign)
    fan_apex: tuple[float, float] = (-0.3, 0.1)  # where the source sits across the belt, as a
    # share of the frame's width: real scanners' sources sit at one side of the tunnel, so one
    # side's walls show wide and the faces apart across it; in the middle (v2.0-v2.4: 0.4-0.6),
    # a bag's top face is its bottom face shrunk about its centre, an even band all round
    fan_apex_mirror: bool = False  # the source on either side, drawn per bag (1 − share); with
    # `belt_across_image` the source's side is the image's top, the far side's band at the bottom
    # as in 74 % of the real scans (v2.5-v2.65: either side; v2.0-v2.4: no)
    fan_apex_flip: float = 0.15  # without `fan_apex_mirror`, the share of scans whose source
    # sits at the other side all the same, on numbers of its own (a flipped bag's packed fill,
    # whose noise follows its window's size, may then draw on): the real scans' bottom end is
    # paler than the top by 0.03 or more in 62 %, the top in 14 % (v2.66, none flipped: 94 % and
    # 0 %; 0.15: 73 % and 19 %, 144 bags of seed 3). 0: none (v2.0-v2.66)
    moulding: bool = True  # hard shells show their edges, lips and ribs (`shell._moulding`),
    # and every bag groups of screws and rivets along its edges (`shell._fittings`); v2.0-v2.4:
    # neither
    fringe: tuple[float, float] = (0.4, 1.2)  # a soft bag's ragged fabric edge reaches this far
    # (cm) beyond its walls on both faces (`shell._fringe`); (0, 0): none, the bag ends on its
    # piping, one crisp line (v2.0-v2.5)
    side_ribs: tuple[int, int] = (8, 16)  # ribs round a hard shell's side wall, seams round a
    # soft one's (`shell._side_ribs`), seen from the side as the striped rims of real bags
    # (sixray_benign); (0, 0): none (v2.0-v2.10), (5, 12): v2.11-v2.12, whose rims carried fewer
    # edges than the real ones (0.18-0.20 against 0.23)
    hardware_on_walls: bool = True  # screw groups follow the walls round the corners, zip
    # pulls lie along the zip, studs and buckles keep inside the walls (`shell.shell_parts`);
    # False: all could stand out of the shell, a blind reader's cue (v2.0-v2.10)
    handle_tubes: tuple[float, float] = (1.6, 2.8)  # how wide (cm) a trolley's outer handle
    # tube is, drawn (`trolley.trolley_frame`; v2.11-v2.25: 2.0-3.6; v2.0-v2.10: 2.8-4.5, read
    # as wide flat bars)
    tube_metals: tuple[str, ...] = ("aluminium",) + ("steel",) * 3  # the handle tubes' metal,
    # one drawn: steel reads as a solid blue bar with dark edges, as most real rails do,
    # aluminium green with blue edges (v2.11-v2.25: three in four aluminium; v2.0-v2.10: half)
    tube_walls: float = 2.0  # the handle tubes' walls this many times 1.2 mm of aluminium or
    # 0.5 mm of steel (v2.0-v2.25: 1, which readers saw as faint, see-through strips)
    rolled_clothes: float = 0.6  # the chance that the next garment packed is a row of 2-5
    # rolled ones (`clutter.rolled_clothes`) instead of one folded; 0: all folded (v2.0-v2.10)
    soft_cloth: float = 1.2  # σ (cm, at most 1.5) of a Gaussian over a garment's cloth
    # (`_draw_garment`): its edges spread over about 3 cm (10-90 %), half of it outside its
    # outline, and its seams and fold steps smooth out, as folded and rolled cloth is rounded
    # and real clothes show soft, fuzzy outlines; 0: cut sharp (v2.0-v2.11), which readers
    # called flat cut-out shapes
    cloth_creases: float = 2.5  # how strongly a garment's cloth shows creases (`_cloth_folds`):
    # pale lines where a fold thins it, thicker on one side and thinner on the other, fading,
    # as the wispy lines of real scans' clothes; 0: none (v2.0-v2.19), which readers called
    # flat, translucent cut-outs; 1.5 barely showed through the other layers of cloth
    cloth_weave: float = 0.15  # σ of a garment's cloth's thickness at the scale of its weave
    # and knit (`_weave`, about a millimetre, on numbers of its own): the real scans' clothes are
    # grainy at the pixel scale (`realism.organic_grain` 0.0108), ours were smooth (0.0079-0.0085,
    # v2.64; 0.0093-0.0105 at 0.15); 0: none (v2.0-v2.64); at most 0.5
    clothes_to_walls: float = 6.0  # cm: garments are laid up to this far past the bag's inner
    # walls, pressed into them, and cut at the walls at their own height (`_wall_cut`), so
    # clothes fill the bag wall to wall at every height; 0: laid within the walls and cut to the
    # shell's footprint only, which left the band the fan shows the side walls in empty
    # (v2.0-v2.65; 3 / 6 / 10 cm took the mean V 8-40 px inside the sides to 0.831 / 0.823 /
    # 0.820, the real scans' 0.781, and the ends' away from theirs, 0.835 / 0.831 / 0.826 against
    # 0.854, seed 3 with v2.66's other settings)
    fullness: tuple[float, float] = (0.4, 1.3)  # how full its owner packed a bag, drawn per bag
    # on numbers of its own: it scales the garments, clutter and packed fill a bag of its size
    # holds (`_packed`, `_draw_packed_fill`; a carton's wadding and goods) together, so some
    # bags are half empty and some crammed, as real ones are; (1, 1): every bag packed alike
    # (v2.0-v2.68), whose lightest tenth was 0.125 dense (V < 0.6) against the real scans'
    # 0.063 (96 bags, seed 3)
    packed_fill: tuple[float, float] = (0.5, 1.0)  # solid cloth (cm, drawn per bag; 0.8-1.5
    # g/cm²) of the soft goods that fill a packed bag's depth between the garments drawn one by
    # one (`_draw_packed_fill`): layers of the shell's inner outline from its floor to its top,
    # so the fan's view of its side walls fills as a real bag's does; (0, 0): none
    # (v2.0-v2.12), which left a pale band just inside the walls (content blocks brighter than
    # V 0.9: real 4 %, v2.12 16-19 %)
    wall_creases: tuple[int, int] = (5, 10)  # a rounded soft bag's walls buckle into this many
    # bands of slanted cloth 1-3 cm wide just inside its outline (`shell._creases`), as the stacked
    # wall bands of real soft bags (sixray_benign); (0, 0): the 1-3 folds of v2.0-v2.8 only;
    # (3, 8): v2.9-v2.12
    coated_folds: bool = True  # a PVC-coated soft bag's fringe, bulges, buckled bands and
    # seams are of the coated cloth, coating and all (`shell._coated`); False: of bare fabric
    # (v2.0-v2.26). The bag's outer 5 % (of its depth) 0.15 green, v2.26 0.13, the real scans 0.26
    soft_walls: float = 0.4  # a soft bag's wall cloth (ragged edge, buckled bands, bulges,
    # seams: `_WALL_CLOTH`) softened by a Gaussian of this σ (cm), its metal and piping crisp:
    # cloth never folds in exact outlines (`_draw_soft`). 0: every fold a sharp outline, stacked
    # by the fan's lean into concentric rings (v2.0-v2.27)
    soft_grain: float = 0.4  # the softened wall cloth's thickness varies by this share (σ) over
    # 2.5 mm (1.2 mm and streaks with `wall_streaks`), as woven and padded cloth does: the fine
    # grain of real soft walls (v2.28: 0.2, which in frames cropped to the bag left the rim's
    # edge density at 0.18-0.20, real 0.226; v2.29-v2.30: 0.4, which readers saw as a blotchy,
    # speckled rim; v2.31-v2.34: 0.3). 0: even
    wall_streaks: bool = True  # that grain is finer (1.2 mm, about a pixel) and a little over
    # half of it (by variance) runs in streaks along the cloth's edges (`_wall_streaks`), the
    # cloth's mass kept; False: isotropic over 2.5 mm, which readers saw as blotches (v2.28-v2.34)
    streak_wander: float = 0.1  # those streaks wander this far (cm) across their edge
    # (v2.35: 0.3, whose wavy streaks readers saw as wood grain and contour lines)
    streak_length: float = 1.0  # and fade in and out over about this length (cm; v2.35: 3.0)
    side_fittings: float = 0.5  # the share of the screw groups along a bag's edges (`moulding`;
    # none without it) driven through its side walls, seen side-on as a head and a shaft
    # (`shell._fittings`); 0: all seen face-on, as dots (v2.5-v2.8)
    fit_projection: bool = True  # `frame_fit` applied in `_pose` to the bag's image as the
    # fan draws it, lengthening the side that makes it too wide or too tall; False: to the
    # bag's box before the pose (v2.1-v2.4), so a leaning or off-centre fan leaves white
    hosts_first: bool = False  # the objects of interest are laid in before the clutter, which
    # then goes to the least packed places (`spread`) counting `host_room` cm over each of them:
    # a packer keeps hard things off a laptop where there is room. False: laid in last (v2.4)
    host_room: float = 0.0
    host_spread: int = 8  # places tried for each object of interest, the one least covered by
    # those already laid in taken (`_host_poses`): a packer lays a laptop beside an iron, not on
    # it. 1: the first drawn (v2.0-v2.6), so they covered half of one another (with 8: a third)
    # and their stacked metal made three fifths of the black pixels
    fill_by_volume: bool = True  # `garments` and `clutter` are for a mid-sized trolley; other
    # bags hold more or fewer, in proportion to their volume. False: as many in any bag, so a
    # backpack or briefcase is packed twice to five times as densely and piles up black (v2.0-v2.4)

    def to_dict(self) -> dict:
        return asdict(self)


# The bag settings of simulator v2.71 that have changed since (configs/synth/sim_v2_71.yaml holds
# the same): v2.72 (2026-12-06) moulded most bags' face buckles of nylon.
SIM_V2_71 = {"plastic_buckles": 0.0}
# The bag settings of simulator v2.70 that have changed since (configs/synth/sim_v2_70.yaml holds
# the same): v2.71 (2026-12-06) gave each trolley's handle tubes walls of their own.
SIM_V2_70 = {**SIM_V2_71, "rail_walls": (1.0, 1.0)}
# The bag settings of simulator v2.69 that have changed since (configs/synth/sim_v2_69.yaml holds
# the same): v2.70 (2026-12-06) gave each trolley's handle tubes a design of their own.
SIM_V2_69 = {**SIM_V2_70, "varied_rails": False}
# The bag settings of simulator v2.68 that have changed since (configs/synth/sim_v2_68.yaml holds
# the same): v2.69 (2026-12-06) packed some bags lightly and some full, not all alike.
SIM_V2_68 = {**SIM_V2_69, "fullness": (1.0, 1.0)}
# The bag settings of simulator v2.67 that have changed since (configs/synth/sim_v2_67.yaml holds
# the same): v2.68 (2026-12-06) packed fewer pairs of shoes and gave trainers foamed EVA soles.
SIM_V2_67 = {**SIM_V2_68, "eva_soles": False, "clutter_mix": PACKED_MIX}
# The bag settings of simulator v2.66 that have changed since (configs/synth/sim_v2_66.yaml holds
# the same): v2.67 (2026-12-06) put the fan's source at the image's bottom in a scan in seven.
SIM_V2_66 = {**SIM_V2_67, "fan_apex_flip": 0.0}
# The bag settings of simulator v2.65 that have changed since (configs/synth/sim_v2_65.yaml holds
# the same): v2.66 (2026-12-05) turned the export a quarter, so the fan's spread runs down the
# image, pressed garments into the walls and cut the export at the bag's ends along the belt.
SIM_V2_65 = {
    **SIM_V2_66,
    "belt_across_image": False,
    "lengthwise_share": 0.95,
    "fan_apex_mirror": True,
    "clothes_to_walls": 0.0,
    "crop_along_belt": False,
}
# The bag settings of simulator v2.64 that have changed since (configs/synth/sim_v2_64.yaml holds
# the same): v2.65 (2026-12-05) gave garments' cloth a millimetre grain.
SIM_V2_64 = {**SIM_V2_65, "cloth_weave": 0.0}
# The bag settings of simulator v2.63 that have changed since (configs/synth/sim_v2_63.yaml holds
# the same): v2.64 (2026-12-05) put two bags in one scan in twenty.
SIM_V2_63 = {**SIM_V2_64, "pair_share": 0.0}
# The bag settings of simulator v2.62 that have changed since (configs/synth/sim_v2_62.yaml holds
# the same): v2.63's; v2.63 (2026-12-05) changed only the console (`colour.SIM_STYLE_V2_63`).
SIM_V2_62 = {**SIM_V2_63}
# The bag settings of simulator v2.61 that have changed since (configs/synth/sim_v2_61.yaml holds
# the same): v2.62 (2026-12-05) squared most objects of interest to the bag.
SIM_V2_61 = {**SIM_V2_62, "aligned_hosts": 0.0}
# The bag settings of simulator v2.60 that have changed since (configs/synth/sim_v2_60.yaml holds
# the same): v2.61's; v2.61 (2026-12-05) changed only the console (`colour.SIM_STYLE_V2_61`).
SIM_V2_60 = {**SIM_V2_61}
# The bag settings of simulator v2.59 that have changed since (configs/synth/sim_v2_59.yaml holds
# the same): v2.60 (2026-12-05) gave each bag its own design of face fittings.
SIM_V2_59 = {**SIM_V2_60, "varied_fittings": False}
# The bag settings of simulator v2.58 that have changed since (configs/synth/sim_v2_58.yaml holds
# the same): v2.59 (2026-12-05) sank an inline wheel's housing into the trolley's end.
SIM_V2_58 = {**SIM_V2_59, "flush_housings": False}
# The bag settings of simulator v2.57 that have changed since (configs/synth/sim_v2_57.yaml holds
# the same): v2.58 (2026-12-05) stood a trolley's handle tubes closer together.
SIM_V2_57 = {**SIM_V2_58, "rail_spacing": 0.6}
# The bag settings of simulator v2.56 that have changed since (configs/synth/sim_v2_56.yaml holds
# the same): v2.57 (2026-12-05) rounded a trolley's frame plate's corners as its shell's.
SIM_V2_56 = {**SIM_V2_57, "rounded_plates": False}
# The bag settings of simulator v2.55 that have changed since (configs/synth/sim_v2_55.yaml holds
# the same): v2.56 (2026-12-05) cropped the frame tighter to the bag and drew a garment's crumple
# on random numbers of its own.
SIM_V2_55 = {**SIM_V2_56, "fill": (1.0, 1.06), "overrun": 0.03, "own_crumple": False}
# The bag settings of simulator v2.54 (and v2.52-v2.53, on other scanners) that have changed
# since (configs/synth/sim_v2_54.yaml holds the same): v2.55 (2026-12-05) thickened the steel
# wire in a soft bag's piping.
SIM_V2_54 = {**SIM_V2_55, "piping_wires": (0.08, 0.15)}
# The bag settings of simulator v2.51 that have changed since (configs/synth/sim_v2_51.yaml
# holds the same): v2.52 (2026-12-05) cast a belt's buckle as a loop of round bar.
SIM_V2_51 = {**SIM_V2_54, "cast_belt_buckles": False}
# The bag settings of simulator v2.50 that have changed since (configs/synth/sim_v2_50.yaml
# holds the same): v2.51 (2026-12-05) made every trolley's frame plate polypropylene.
SIM_V2_50 = {**SIM_V2_51, "frame_plates": ("polypropylene", "polypropylene", "pvc")}
# The bag settings of simulator v2.49 that have changed since (configs/synth/sim_v2_49.yaml
# holds the same): v2.50 (2026-12-05) drew a trolley's spinners' turrets as domes.
SIM_V2_49 = {**SIM_V2_50, "domed_turrets": False}
# The bag settings of simulator v2.48 that have changed since (configs/synth/sim_v2_48.yaml
# holds the same): v2.49 (2026-12-05) drew a trolley's side handle bowed out between mounts.
SIM_V2_48 = {**SIM_V2_49, "side_handles": False}
# The bag settings of simulator v2.47 that have changed since (configs/synth/sim_v2_47.yaml
# holds the same): v2.48 (2026-12-05) moulded half the hard shells of ABS/PVC.
SIM_V2_47 = {**SIM_V2_48, "hard_shells": ("polycarbonate",)}
# The bag settings of simulator v2.46 that have changed since (configs/synth/sim_v2_46.yaml
# holds the same): v2.47 (2026-12-05) shaped a bag's face D-rings and buckles as cast ones.
SIM_V2_46 = {**SIM_V2_47, "cast_fittings": False}
# The bag settings of simulator v2.45 (and v2.43-v2.44, on other consoles) that have changed
# since (configs/synth/sim_v2_45.yaml holds the same): v2.46 (2026-12-05) drew a zip on a face
# as a chain of teeth.
SIM_V2_45 = {**SIM_V2_46, "toothed_zips": False}
# The bag settings of simulator v2.42 that have changed since (configs/synth/sim_v2_42.yaml
# holds the same): v2.43 (2026-12-05) made most strewn rings hardware.
SIM_V2_42 = {**SIM_V2_45, "trinket_rings": 1.0}
# The bag settings of simulator v2.41 that have changed since (configs/synth/sim_v2_41.yaml
# holds the same): v2.42 (2026-12-05) made most strewn lipsticks and USB sticks hardware.
SIM_V2_41 = {**SIM_V2_42, "trinket_hardware": False}
# The bag settings of simulator v2.40 that have changed since (configs/synth/sim_v2_40.yaml
# holds the same): v2.41 (2026-12-05) made a bag's face D-rings and buckles heavier.
SIM_V2_40 = {**SIM_V2_41, "heavy_fittings": False}
# The bag settings of simulator v2.39 that have changed since (configs/synth/sim_v2_39.yaml
# holds the same): v2.40 (2026-12-05) kept the handle tubes' webs to the inner tube.
SIM_V2_39 = {**SIM_V2_40, "inner_webs": False}
# The bag settings of simulator v2.38 that have changed since (configs/synth/sim_v2_38.yaml
# holds the same): v2.39 (2026-12-05) gave a trolley's spinners tyres of filled rubber.
SIM_V2_38 = {**SIM_V2_39, "spinner_tyres": "polyurethane"}
# The bag settings of simulator v2.37 (and v2.36, on another console) that have changed since
# (configs/synth/sim_v2_37.yaml holds the same): v2.38 (2026-12-05) put webs in a trolley's
# handle tubes, laid a soft bag's piping on its walls and made buckles open frames.
SIM_V2_37 = {
    **SIM_V2_38,
    "rail_webs": False,
    "piping_on_walls": False,
    "framed_buckles": False,
}
# The bag settings of simulator v2.35 that have changed since (configs/synth/sim_v2_35.yaml
# holds the same): v2.36 (2026-12-05) made the wall cloth's streaks straighter and shorter.
# Older versions draw no streaks, so their pins leave these as they are.
SIM_V2_35 = {**SIM_V2_37, "streak_wander": 0.3, "streak_length": 3.0}
# The bag settings of simulator v2.34 that have changed since (configs/synth/sim_v2_34.yaml
# holds the same): v2.35 (2026-12-05) grained a soft bag's wall cloth finer and in streaks.
SIM_V2_34 = {**SIM_V2_37, "wall_streaks": False, "soft_grain": 0.3}
# The bag settings of simulator v2.33 (and v2.32, on another console) that have changed since
# (configs/synth/sim_v2_33.yaml holds the same): v2.34 (2026-12-05) fitted a trolley's handle
# tubes with steel feet, screws, rivets and a lock clip.
SIM_V2_33 = {**SIM_V2_34, "rail_fittings": False}
# The bag settings of simulator v2.31 that have changed since (configs/synth/sim_v2_31.yaml
# holds the same): v2.32 (2026-12-05) turned a trolley's spinners as they swivel.
SIM_V2_31 = {**SIM_V2_33, "swivel_wheels": False}
# The bag settings of simulator v2.30 that have changed since (configs/synth/sim_v2_30.yaml
# holds the same): v2.31 (2026-12-04) made the soft wall cloth's grain shallower.
SIM_V2_30 = {**SIM_V2_31, "soft_grain": 0.4}
# The bag settings of simulator v2.29 that have changed since (configs/synth/sim_v2_29.yaml
# holds the same): v2.30 (2026-12-04) stood a trolley's wheels on its bottom end.
SIM_V2_29 = {**SIM_V2_30, "wheels_at_end": False, "fill": (0.99, 1.05)}
# The bag settings of simulator v2.28 that have changed since (configs/synth/sim_v2_28.yaml
# holds the same): v2.29 (2026-12-04) framed each bag as its image is shaped and turned bags
# on the belt as often as real ones lie.
SIM_V2_28 = {
    **SIM_V2_29,
    "max_angle_deg": 8.0,
    "turned_share": 0.5,
    "max_turned_deg": 35.0,
    "min_turned_deg": 0.0,
    "frame_to_bag": None,
    "fill": (1.01, 1.07),
    "soft_grain": 0.2,
}
# The bag settings of simulator v2.27 that have changed since (configs/synth/sim_v2_27.yaml
# holds the same): v2.28 (2026-12-04) softened a soft bag's wall cloth.
SIM_V2_27 = {**SIM_V2_28, "soft_walls": 0.0, "soft_grain": 0.0}
# The bag settings of simulator v2.26 that have changed since (configs/synth/sim_v2_26.yaml
# holds the same): v2.27 (2026-12-04) packed the bag to its walls.
SIM_V2_26 = {**SIM_V2_27, "against_walls": False, "coated_folds": False}
# The bag settings of simulator v2.25 that have changed since (configs/synth/sim_v2_25.yaml
# holds the same). v2.20-v2.25 share these bags, which differ from v2.19's only in v2.20's
# garment creases; v2.26 (2026-12-03) changed the handle tubes.
SIM_V2_25 = {
    **SIM_V2_26,
    "handle_tubes": (2.0, 3.6),
    "tube_metals": ("aluminium",) * 3 + ("steel",),
    "tube_walls": 1.0,
}
# The bag settings of simulator v2.19 that have changed since (configs/synth/sim_v2_19.yaml
# holds the same): v2.20 (2026-12-03) made them the defaults.
SIM_V2_19 = {**SIM_V2_25, "cloth_creases": 0.0}
# The bag settings of simulator v2.18 that have changed since (configs/synth/sim_v2_18.yaml
# holds the same; v2.15-v2.18 changed only the console): v2.19 (2026-12-03) made them the
# defaults.
SIM_V2_18 = {**SIM_V2_19, "wire_guards": False}
# The bag settings of simulator v2.14 that have changed since (configs/synth/sim_v2_14.yaml
# holds the same): v2.15 (2026-12-03) made them the defaults.
SIM_V2_14 = {**SIM_V2_18, "corner_points": 5, "fill": (1.02, 1.08)}
# The bag settings of simulator v2.13 that have changed since (configs/synth/sim_v2_13.yaml
# holds the same): v2.14 (2026-12-03) made them the defaults.
SIM_V2_13 = {**SIM_V2_14, "folded_umbrellas": False, "clutter_mix": HEAVY_MIX}
# The bag settings of simulator v2.12 that have changed since (configs/synth/sim_v2_12.yaml
# holds the same): v2.13 (2026-12-03) made them the defaults.
SIM_V2_12 = {
    **SIM_V2_13,
    "packed_fill": (0.0, 0.0),
    "side_ribs": (5, 12),
    "wall_creases": (3, 8),
}
# The bag settings of simulator v2.11 that have changed since (configs/synth/sim_v2_11.yaml
# holds the same): v2.12 (2026-12-03) made them the defaults.
SIM_V2_11 = {**SIM_V2_12, "soft_cloth": 0.0, "heavy_goods": False, "clutter_mix": ()}
# The bag settings of simulator v2.10 that have changed since (configs/synth/sim_v2_10.yaml
# holds the same): v2.11 (2026-12-03) made them the defaults.
SIM_V2_10 = {
    **SIM_V2_11,
    "clutter": (38, 66),
    "cables": 2.0,
    "fanned_keys": False,
    "side_ribs": (0, 0),
    "hardware_on_walls": False,
    "handle_tubes": (2.8, 4.5),
    "tube_metals": ("aluminium", "steel"),
    "rolled_clothes": 0.0,
}
# The bag settings of simulator v2.9 that have changed since (configs/synth/sim_v2_9.yaml holds
# the same): v2.10 (2026-12-03) made them the defaults.
SIM_V2_9 = {
    **SIM_V2_10,
    "trolley_share": 0.5,
    "fill": (1.04, 1.1),
    "frame_plates": ("polypropylene", "pvc", "pvc"),
}
# The bag settings of simulator v2.8 that have changed since (configs/synth/sim_v2_8.yaml holds
# the same): v2.9 (2026-12-03) made them the defaults.
SIM_V2_8 = {**SIM_V2_9, "wall_creases": (0, 0), "side_fittings": 0.0}
# The bag settings of simulator v2.7 that have changed since (configs/synth/sim_v2_7.yaml holds
# the same): v2.8 (2026-12-03) made them the defaults.
SIM_V2_7 = {**SIM_V2_8, "lengthwise_share": 0.0}
# The bag settings of simulator v2.6 that have changed since (configs/synth/sim_v2_6.yaml holds
# the same): v2.7 (2026-12-03) made them the defaults.
SIM_V2_6 = {**SIM_V2_7, "host_spread": 1}
# The bag settings of simulator v2.5 that have changed since (configs/synth/sim_v2_5.yaml holds
# the same): v2.6 (2026-12-02) made them the defaults.
SIM_V2_5 = {**SIM_V2_6, "fringe": (0.0, 0.0)}
# The bag settings of simulator v2.4 that have changed since (configs/synth/sim_v2_4.yaml holds
# the same): v2.5 (2026-12-02) made them the defaults.
SIM_V2_4 = {
    **SIM_V2_5,
    "fill": (1.0, 1.06),
    "clutter": (28, 50),
    "wound_coils": False,
    "turned_share": 0.15,
    "fan_lean": (0.0, 0.0),
    "fan_apex": (0.4, 0.6),
    "fan_apex_mirror": False,
    "moulding": False,
    "fit_projection": False,
    "fill_by_volume": False,
}
# The bag settings of simulator v2.0 that have changed since (configs/synth/sim_v2_0.yaml holds
# the same): demo model v2 was trained on them and the demo scans were made with them.
SIM_V2_0 = {
    **SIM_V2_4,
    "clutter": (12, 26),
    "garments": (10, 22),
    "frame_fit": None,
    "stacked_clothes": False,
    "shell_corners": None,
    "cables": 3.5,
    "coiled_cables": False,
    "spread": 1,
}


@dataclass
class ObjectTruth:
    category: str
    mask: np.ndarray  # bool H×W
    anomalous: bool = False
    anomaly_type: str | None = None
    anomaly_mask: np.ndarray | None = None
    anomaly_visibility: float | None = None
    anomaly_window: Canvas | None = field(default=None, repr=False)
    replaced_window: Canvas | None = field(default=None, repr=False)
    design: str | None = None
    # `anomaly_cover`, filled by `compose_bag`; None: benign, an anomaly of no pixels, or one
    # projected into a real scan, whose contents are unknown
    anomaly_cover: float | None = None


@dataclass
class Bag:
    canvas: Canvas
    outline: np.ndarray  # bool H×W: where the bag's own shell, handles and frame lie
    objects: list[ObjectTruth] = field(default_factory=list)
    info: dict = field(default_factory=dict)  # bag kind, angle, fan stretch: for the record

    @property
    def belt_across(self) -> bool:
        """Whether the scan is an export turned a quarter (`_turned_export`): its detector's
        channels run down the image (`Scanner.render`'s `belt_across`)."""
        return bool(self.info.get("belt_across_image"))


@dataclass(frozen=True)
class _Frame:
    """The bag's pose: centre (world cm), turn, and inner half-extents (bag coordinates)."""

    center: np.ndarray
    rot: np.ndarray
    inner: np.ndarray  # half-extents of the space inside the shell
    # a rounded shell's inner outline ((x, y) cm, bag coordinates); None: the box `inner`
    outline: np.ndarray | None = None

    def place(self, model: ObjectModel, local_xyz, local_rot: np.ndarray) -> ObjectModel:
        """`model` put at `local_xyz` in the bag, turned by `local_rot` relative to the bag."""
        return place(model, self.center + self.rot @ np.asarray(local_xyz), self.rot @ local_rot)


def _hull(size, rot: np.ndarray, corner: float | None, reach: float = 0.0) -> np.ndarray:
    """Points (world cm, about the bag's centre) whose projection covers the bag turned by
    `rot`, with the 2 cm that handles stick out: a box's corners, or a rounded outline's, and
    with `reach` > 0 what stands that far out of its −x end (a trolley's wheels)."""
    if corner is None:
        corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
        return corners * (np.asarray(size) / 2 + [2.0, 2.0, 0.0]) @ rot.T
    rim = rounded_rect(size[0] / 2 + 2.0, size[1] / 2 + 2.0, corner + 2.0, n=9)
    points = [(x, y, sz * size[2] / 2) for x, y in rim for sz in (-1, 1)]
    if reach > 0:
        end = -size[0] / 2 - reach
        side = size[1] / 2 - 3.0  # the wheels sit inside the end's rounded corners
        points += [(end, sy * side, sz * size[2] / 2) for sy in (-1, 1) for sz in (-1, 1)]
    return np.array(points) @ rot.T


def _oriented(cfg: BagConfig, portrait: bool) -> BagConfig:
    """`cfg` with its frame turned, if need be, to be taller than wide (`portrait`) or not."""
    if portrait != (cfg.height > cfg.width):
        cfg = replace(cfg, width=cfg.height, height=cfg.width)
    return cfg


def _framed(cfg: BagConfig, aspect: float) -> BagConfig:
    """`cfg` with a frame of as many pixels, its width over height `aspect` within
    `cfg.frame_to_bag`: an export cropped to the bag's box."""
    pixels = cfg.width * cfg.height
    width = round(float(np.sqrt(pixels * np.clip(aspect, *cfg.frame_to_bag))))
    return replace(cfg, width=width, height=round(pixels / width))


def _pose(
    cfg: BagConfig,
    size,
    rng: np.random.Generator,
    corner: float | None = None,
    lengthwise: bool | None = None,
    reach: float = 0.0,
):
    """Pixel pitch, fan beam, centre (world cm), turn and size of a bag that fills the frame,
    and `cfg` with the frame's width and height (turned to the bag's image, see below).

    The scanner's image is cropped and resampled to the bag, so the pitch is chosen to make
    the bag fill a random share of the frame (never finer than `cfg.pitch_cm`). Across the belt
    a corner at height z lands at apex + (x − apex)·k(z), linear in the centre's x, so the
    centres that keep every corner inside form an interval; the pitch grows until it is not
    empty. `corner`: the shell's corners are rounded with this radius (cm), so a turned bag
    reaches less far than a box would. `lengthwise`: the bag's long side (x) lies along the
    belt (the image's rows as drawn, before any `_turned_export`) or across it, and the frame's
    long side follows the bag's image as the fan draws it, turn included, as an export cropped
    to the bag does (fitting a turned bag to a frame of the wrong shape would stretch it
    thin); None: the frame as configured, the bag across the belt, bar one in ten (v2.0-v2.7).
    `reach`: what stands out of the bag's −x end (cm, its wheels), which the frame holds too
    (`_hull`).
    """
    base = float(rng.choice([0.0, np.pi]))
    if lengthwise is None:
        base += np.pi / 2 if rng.random() < 0.1 else 0.0
    elif lengthwise:
        base += np.pi / 2
    is_turned = rng.random() < cfg.turned_share
    turn = cfg.max_turned_deg if is_turned else cfg.max_angle_deg
    turned = rng.uniform(-turn, turn)
    if is_turned and cfg.min_turned_deg > 0:  # the same draw, from ±[min, max]
        turned = np.sign(turned) * np.interp(abs(turned), [0, turn], [cfg.min_turned_deg, turn])
    turned = np.deg2rad(turned)
    angle = base + turned
    rot = rotation(rng.normal(0, 0.04), rng.normal(0, 0.04), angle)
    stretch = float(rng.uniform(*cfg.fan_stretch))
    a = cfg.fan_source_cm
    fill = rng.uniform(*cfg.fill)
    shear = 0.0
    if cfg.fan_lean[1] > 0:  # drawn only then: v2.0-v2.4 bags stay as they were
        shear = float(rng.uniform(*cfg.fan_lean) * rng.choice([-1.0, 1.0]))
    apex_share = float(rng.uniform(*cfg.fan_apex))
    if cfg.fan_apex_mirror and rng.random() < 0.5:  # drawn only then: v2.0-v2.4 bags stay
        apex_share = 1.0 - apex_share
    elif cfg.fan_apex_flip > 0 and side_rng(rng, b"apex flip").random() < cfg.fan_apex_flip:
        apex_share = 1.0 - apex_share  # on numbers of its own: the rest of the bag as without
    if lengthwise is not None and cfg.fit_projection:
        local, _, k, along = _projected(size, rot, corner, stretch, a, shear, reach)
        wide = _across(local, k, apex_share) >= np.ptp(along)
        cfg = _oriented(cfg, portrait=not wide)
    if cfg.fit_projection and cfg.frame_fit is not None:
        fit = float(rng.uniform(*cfg.frame_fit))
        growth = None if lengthwise is None else FIT_MAX_GROWTH
        size = _fit_projection(
            cfg, size, rot, corner, (stretch, shear, apex_share), fit, growth, reach
        )
    local, lift, k, along = _projected(size, rot, corner, stretch, a, shear, reach)
    if cfg.frame_to_bag is not None:  # the frame then takes the shape of the bag's image
        cfg = _framed(cfg, _across(local, k, apex_share) / np.ptp(along))
    # the image's width: as the fan draws it, or (v2.0-v2.4) as if the source sat at its middle
    width = _across(local, k, apex_share) if cfg.fit_projection else np.ptp(local[:, 0] * k)
    pitch = max(cfg.pitch_cm, width / (fill * cfg.width), np.ptp(along) / (fill * cfg.height))
    for _ in range(100):
        w_cm, h_cm = cfg.width * pitch, cfg.height * pitch
        margin = -cfg.overrun * w_cm  # faint rims and handles may run off the frame
        fan = FanBeam(source_cm=a, stretch=stretch, apex_cm=w_cm * apex_share, shear=shear)
        offset = fan.apex_cm + (local[:, 0] - fan.apex_cm) * k  # u = offset + x_centre·k
        lo, hi = np.max((margin - offset) / k), np.min((w_cm - margin - offset) / k)
        v_lo, v_hi = np.max(margin - along), np.min(h_cm - margin - along)
        if lo <= hi and v_lo <= v_hi:
            break
        pitch *= 1.02
    center = np.array([rng.uniform(lo, hi), rng.uniform(v_lo, v_hi), lift])
    if cfg.crop_along_belt:  # drawn all the same: the rest of the bag as without it
        center[1] = (v_lo + v_hi) / 2
    return pitch, fan, center, rot, size, cfg


def _projected(size, rot, corner, stretch: float, source_cm: float, shear: float, reach=0.0):
    """(hull points, lift onto the belt, across-belt scale k per point, along-belt image
    coordinate per point) of a bag of `size` turned by `rot`, as the fan draws it."""
    local = _hull(size, rot, corner, reach)
    lift = 0.5 - local[:, 2].min()  # the bag rests on the belt
    k = stretch * source_cm / (source_cm + local[:, 2] + lift)
    along = local[:, 1] - shear * (local[:, 2] + lift)  # FanBeam.image_y
    return local, lift, k, along


def _across(local: np.ndarray, k: np.ndarray, apex_share: float) -> float:
    """The width (cm) of a bag's image across the belt, centred in a frame whose source sits at
    `apex_share` of its width: higher points land nearer the source, so off-centre a bag's
    faces show apart (`FanBeam.image_x`)."""
    near = np.ptp(local[:, 0] * k)
    offset = (0.5 - apex_share) * near  # the bag's centre from the source, about
    return float(np.ptp(k * (local[:, 0] + offset)))


def _fit_projection(
    cfg: BagConfig,
    size,
    rot,
    corner,
    fan: tuple,
    fit: float,
    max_growth: float | None = None,
    reach: float = 0.0,
) -> np.ndarray:
    """`size` with the side lying most along (or across) the belt lengthened until the bag's
    image, as the fan (stretch, shear, apex share) draws it, is at most `fit` times wider (or
    taller) than the frame: exports are cropped to the bag both ways (sixray_benign).

    With `max_growth` (v2.8) each step lengthens whichever side brings the image nearest the
    frame's shape, no side grows past `max_growth` times its drawn length and the bag no longer
    than `FIT_MAX_ASPECT` times its width: a bag turned near 45° fills a 4:3 frame by neither
    side, and lengthening one stretched it up to six times as long as wide (v2.0-v2.7: rarely,
    bags lay across the belt in a frame of their shape). What is left over stays white, as
    around a turned bag in a real export.
    """
    stretch, shear, apex_share = fan
    size = np.array(size, float)
    drawn = size.copy()
    drawn_flat = max(drawn[:2]) / min(drawn[:2])
    aspect = cfg.width / cfg.height

    def ratio_of(sides: np.ndarray) -> float:
        local, _, k, along = _projected(
            sides, rot, corner, stretch, cfg.fan_source_cm, shear, reach
        )
        return float(_across(local, k, apex_share) / np.ptp(along) / aspect)

    def misfit(r: float) -> float:  # how far outside [1/fit, fit], in log units
        return max(0.0, np.log(r / fit), np.log(1 / (r * fit)))

    ratio = ratio_of(size)
    for _ in range(20):
        if 1 / fit <= ratio <= fit:
            break
        step = min(max(ratio / fit, 1 / (ratio * fit)), 1.1)
        if max_growth is None:
            along = int(np.argmax(np.abs(rot[1, :2])))  # the side nearest the belt's direction
            side = along if ratio > fit else 1 - along
            size[side] *= step
            ratio = ratio_of(size)
            continue
        best = None
        for side in (0, 1):
            trial = size.copy()
            trial[side] = min(trial[side] * step, drawn[side] * max_growth)
            flat = max(trial[:2]) / min(trial[:2])
            if trial[side] > size[side] and flat <= max(FIT_MAX_ASPECT, drawn_flat):
                r = ratio_of(trial)
                if misfit(r) < misfit(ratio) and (best is None or misfit(r) < misfit(best[1])):
                    best = (trial, r)
        if best is None:
            break
        size, ratio = best
    return size


# How packers lay each class down (probabilities; the rest lie flat as built, face up or
# down): see the module docstring.
_ON_EDGE = {"laptop": 0.04, "mobile": 0.04, "hairdryer": 0.1, "bottle": 0.0}
_ON_SIDE = {"iron": 0.5, "toaster": 0.25}
_UPRIGHT_BOTTLE = 0.15


def packed_pose(category: str, rng: np.random.Generator) -> np.ndarray:
    """The resting turn (3×3) of an item of `category` as packed, before its tilt and heading."""
    flip = rotation(np.pi, 0, 0) if rng.random() < 0.5 else np.eye(3)  # face up or face down
    if category == "bottle" and rng.random() < _UPRIGHT_BOTTLE:
        return rotation(0, np.pi / 2, 0)  # standing: the beam sees it end-on
    if rng.random() < _ON_EDGE.get(category, 0.0) + _ON_SIDE.get(category, 0.0):
        return rotation(float(rng.choice([-np.pi / 2, np.pi / 2])), 0, 0)
    return flip


def _fit(
    inner: np.ndarray,
    size,
    rng: np.random.Generator,
    tilt: float,
    base=None,
    aligned=False,
    outline: np.ndarray | None = None,
    to_walls: bool = False,
    square: tuple[np.random.Generator, float] | None = None,
    overflow: float = 0.0,
):
    """A turn and a position in the bag that keep an item of `size` inside `inner`.

    The item rests as `base` turns it (flat when None), tilted by about `tilt` radians and
    turned to any heading when it fits (`aligned`: along or across the bag, σ 4.6°, as folded
    clothes are stacked); a big flat one (a laptop in a briefcase) is lined up with the bag,
    as a packer would. The half extents of the turned box are |R|·size/2; an item still too
    big on an axis is centred on it. With a rounded shell's `outline`, the position is then
    pulled towards the middle until the item's footprint lies within it (`_within`).

    The position is drawn evenly over the room its box leaves (the middle of the bag covered
    most, the walls least: v2.0-v2.26), or (`to_walls`) over that room and the item's width
    beyond it on each side, then pushed back against the wall it crossed: every spot from wall
    to wall is then covered as often, as in a packed bag, whose items lie against its walls.

    `square`: (its own generator, a share): that share of items turned to any heading have it
    moved to the nearest quarter turn, within σ `HOST_ALIGN_SIGMA` (`squared`). `rng` draws
    exactly as without it: whether the item is lined up instead, on `rng`'s numbers, is decided
    by the heading `rng` drew; a squared turn that no longer fits is lined up on `square`'s.

    `overflow` (cm): the room reaches this much further on each side across the bag, so a soft
    item may be pressed past the walls (and is then cut at them, `_wall_cut`); the same draws.
    """
    base = np.eye(3) if base is None else np.asarray(base)
    rested = np.abs(base) @ np.asarray(size)
    roll, pitch = rng.normal(0, tilt), rng.normal(0, tilt)  # first, as before: same bags
    squared_to = None
    if aligned:
        heading = float(rng.integers(0, 4)) * np.pi / 2 + rng.normal(0, 0.08)
    else:
        heading = rng.uniform(0, 2 * np.pi)
        if square is not None and square[0].random() < square[1]:
            squared_to = squared(heading, square[0])
    turn = rotation(roll, pitch, heading) @ base
    extent = np.abs(turn) @ (np.asarray(size) / 2)
    if np.any(extent[:2] > inner[:2]):
        turn, extent = _lined_up(size, base, rested, inner, rng)
    elif squared_to is not None:
        turn = rotation(roll, pitch, squared_to) @ base
        extent = np.abs(turn) @ (np.asarray(size) / 2)
        if np.any(extent[:2] > inner[:2]):
            turn, extent = _lined_up(size, base, rested, inner, square[0])
    room = np.maximum(inner - extent, 0.0) + np.array([overflow, overflow, 0.0])
    drawn = rng.uniform(-1, 1, 3)
    position = drawn * room
    if to_walls:  # over the room and the item's width beyond it, pushed back to the walls
        reach = room + 2 * extent * [1.0, 1.0, 0.0]
        position = np.clip(drawn * reach, -room, room)
    if outline is not None:
        position = _within(outline, turn, size, position)
    return turn, position


HOST_ALIGN_SIGMA = 0.12  # rad (7°): how far a squared object of interest turns from the bag's axes


def squared(heading: float, rng: np.random.Generator, axis: float = 0.0) -> float:
    """`heading` (rad) moved to the nearest quarter turn from `axis`, give or take
    `HOST_ALIGN_SIGMA`: an item a packer laid square to the bag (`BagConfig.aligned_hosts`)."""
    quarter = round((heading - axis) / (np.pi / 2)) * np.pi / 2
    return axis + quarter + rng.normal(0, HOST_ALIGN_SIGMA)


def _lined_up(size, base: np.ndarray, rested: np.ndarray, inner: np.ndarray, rng):
    """(turn, half extents) of an item too big to turn freely, lined up with the bag."""
    along = 0.0 if (rested[0] >= rested[1]) == (inner[0] >= inner[1]) else np.pi / 2
    along += float(rng.choice([0.0, np.pi])) + rng.normal(0, 0.03)
    turn = rotation(rng.normal(0, 0.03), rng.normal(0, 0.03), along) @ base
    return turn, np.abs(turn) @ (np.asarray(size) / 2)


def _within(outline: np.ndarray, turn: np.ndarray, size, position: np.ndarray) -> np.ndarray:
    """`position` moved towards the bag's middle (in tenths of the way) until the corners of
    the turned item's box, seen from above, lie inside `outline`: the square room of `_fit`
    reaches into a rounded shell's corners and its dents. Centred when nothing else fits."""
    half = np.asarray(size, float) / 2
    corners = (_CORNER_SIGNS * half @ turn.T)[:, :2]
    moved = position * _PULLS[0]
    if _inside_polygon(corners + moved[:2], outline).all():  # most items: where they fell
        return moved
    moved = position * _PULLS[1:]  # the other pulls at once, first that fits wins
    points = corners[None] + moved[:, None, :2]
    fits = _inside_polygon(points.reshape(-1, 2), outline).reshape(len(moved), -1).all(axis=1)
    if fits.any():
        return moved[int(np.argmax(fits))]
    return position * [0.0, 0.0, 1.0]


_CORNER_SIGNS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
# `_within`'s pulls towards the middle: (share, share, 1) for shares 1.0, 0.9, ... 0.1
_PULLS = np.array([[share, share, 1.0] for share in np.linspace(1.0, 0.1, 10)])


def _inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Whether each (x, y) point lies inside `polygon` (closed or not; even-odd rule)."""
    polygon = np.vstack([polygon, polygon[:1]])
    x, y = points[:, :1], points[:, 1:2]
    a, b = polygon[None, :-1], polygon[None, 1:]
    crosses = (a[..., 1] > y) != (b[..., 1] > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = a[..., 0] + (y - a[..., 1]) * (b[..., 0] - a[..., 0]) / (b[..., 1] - a[..., 1])
    return (crosses & (x < at)).sum(axis=1) % 2 == 1


def compose_bag(rng: np.random.Generator, config: BagConfig | None = None) -> Bag:
    """A random bag with its objects of interest and exact masks."""
    cfg = config or BagConfig()
    models = []  # the objects of interest first: the bag must be big enough to hold them
    for _ in range(int(rng.integers(cfg.min_objects, cfg.max_objects, endpoint=True))):
        category = str(rng.choice(cfg.categories))
        model = build(category, rng, designs=cfg.designs, wire_guards=cfg.wire_guards)
        if rng.random() < cfg.anomaly_share:
            model = insert_anomaly(model, str(rng.choice(cfg.anomaly_types)), rng)
        models.append(model)
    if cfg.pair_share > 0:
        check_pairs(cfg)
        if side_rng(rng, b"pair").random() < cfg.pair_share:
            pair = _compose_pair(rng, cfg, models)
            return _turned_export(pair) if cfg.belt_across_image else pair
    kind = _kind(rng, cfg)
    if cfg.carton_share > 0 and side_rng(rng, b"carton").random() < cfg.carton_share:
        kind = "carton"  # on numbers of its own: the other bags stay as they were
    size = _size(rng, kind, models)
    lengthwise = None  # v2.0-v2.7: the frame as configured (drawn only then: same bags)
    if cfg.lengthwise_share > 0:
        lengthwise = bool(rng.random() < cfg.lengthwise_share)
        cfg = _oriented(cfg, portrait=lengthwise)  # `_pose` turns it to the bag's image
    if cfg.frame_fit is not None and not cfg.fit_projection:  # else `_pose` fits it
        # a wide bag in a 4:3 frame would leave white above and below
        aspect = cfg.width / cfg.height / np.mean(cfg.fan_stretch)  # the frame's, in cm
        if lengthwise:  # its long side runs down the frame, its other one across the belt
            aspect = cfg.height / cfg.width * np.mean(cfg.fan_stretch)
        fit = rng.uniform(*cfg.frame_fit)
        size[1] = max(size[1], size[0] / (aspect * fit))
    corner = _corner(rng, cfg)
    if kind == "carton":  # folded board: nearly square, and held in as a rounded shell is
        corner = CARTON_CORNER
    reach = _wheel_reach(cfg, kind, corner)  # the frame holds a trolley's wheels' turrets
    pitch, fan, center, rot, size, cfg = _pose(cfg, size, rng, corner, lengthwise, reach)
    canvas = Canvas(cfg.height, cfg.width, pitch, fan)
    bag, hosts, own = _pack_bag(canvas, cfg, rng, kind, size, corner, center, rot, models)
    _fill_covers(bag, hosts, [own] * len(hosts))
    info = _scan_info(cfg, kind, rot, pitch, fan, lengthwise)
    bag.info = {**info, **bag.info}  # what packing recorded last, as it was drawn
    return _turned_export(bag) if cfg.belt_across_image else bag


def _turned(canvas: Canvas, height: int) -> Canvas:
    """`canvas` (the whole scan, or a window of a scan `height` pixels tall) turned a quarter
    clockwise: its maps only, to be read (the fan's geometry no longer applies)."""
    turned = Canvas(
        canvas.width,
        canvas.height,
        canvas.pitch,
        row0=canvas.col0,
        col0=height - canvas.row0 - canvas.height,
    )
    turned.maps = {m: _quarter_turn(t) for m, t in canvas.maps.items()}
    return turned


def _quarter_turn(array: np.ndarray) -> np.ndarray:
    """A 2-D map or mask turned a quarter clockwise, contiguous: `np.rot90(array, -1)` to the
    bit, by OpenCV's blocked transpose where it takes the type (a few times faster on a map)."""
    if array.ndim != 2 or array.size == 0 or array.dtype not in _CV_TURNABLE:
        return np.ascontiguousarray(np.rot90(array, -1))
    plain = np.ascontiguousarray(array)
    if array.dtype == bool:
        return cv2.rotate(plain.view(np.uint8), cv2.ROTATE_90_CLOCKWISE).view(bool)
    return cv2.rotate(plain, cv2.ROTATE_90_CLOCKWISE)


_CV_TURNABLE = {np.dtype(t) for t in (bool, np.uint8, np.uint16, np.int16, np.float32, np.float64)}


def _turned_export(bag: Bag) -> Bag:
    """A drawn bag exported turned a quarter clockwise (`BagConfig.belt_across_image`): its
    maps, masks and windows, and the headings in its record, as the image shows them. The
    scan's first column (the fan's source side) becomes its top row."""
    height = bag.canvas.height

    def turn(mask: np.ndarray | None) -> np.ndarray | None:
        return None if mask is None else _quarter_turn(mask)

    def window(canvas: Canvas | None) -> Canvas | None:
        return None if canvas is None else _turned(canvas, height)

    objects = [
        replace(
            obj,
            mask=turn(obj.mask),
            anomaly_mask=turn(obj.anomaly_mask),
            anomaly_window=window(obj.anomaly_window),
            replaced_window=window(obj.replaced_window),
        )
        for obj in bag.objects
    ]
    info = {**bag.info, "belt_across_image": True}
    if "bags" in info:  # a pair's own records, copied: the drawn bag's stay as drawn
        info["bags"] = [dict(record) for record in info["bags"]]
    for record in (info, *info.get("bags", ())):  # x right, y down: a heading turns by +90°
        record["angle_deg"] = (record["angle_deg"] + 180.0) % 180.0 - 90.0
    return Bag(_turned(bag.canvas, height), turn(bag.outline), objects, info)


def _scan_info(cfg: BagConfig, kind: str, rot, pitch: float, fan, lengthwise) -> dict:
    """What a scan's record says of its bag's pose and the fan that drew it."""
    angle = float(np.rad2deg(_heading(rot)))
    info = {"kind": kind, "angle_deg": angle, "fan_stretch": fan.stretch, "pitch_cm": pitch}
    if lengthwise is not None:
        info["lengthwise"] = lengthwise
    if fan.shear:
        info["fan_shear"] = fan.shear
    if cfg.fan_apex_mirror or cfg.fan_apex_flip or cfg.fan_apex != BagConfig.fan_apex:
        info["fan_apex_share"] = fan.apex_cm / (cfg.width * pitch)
    return info


def check_pairs(cfg: BagConfig) -> None:
    """ConfigError where `pair_share` asks for two bags a scan in a framing that cannot hold
    them: v2.0-v2.7's (`fit_projection` false, or no bag travelling lengthwise)."""
    if cfg.pair_share > 0 and (not cfg.fit_projection or cfg.lengthwise_share <= 0):
        raise ConfigError(
            f"bag.pair_share is {cfg.pair_share:g}, but two bags a scan need the frame fitted to "
            f"the bags' image and bags that travel lengthwise, as since simulator v2.8 "
            f"(bag.fit_projection is {str(cfg.fit_projection).lower()}, bag.lengthwise_share "
            f"{cfg.lengthwise_share:g}): set bag.pair_share=0 for this framing"
        )


def _kind(rng: np.random.Generator, cfg: BagConfig) -> str:
    """A bag's kind: a trolley with chance `trolley_share`, else another of `bag_kinds`."""
    others = [k for k in cfg.bag_kinds if k != "trolley"]
    if "trolley" in cfg.bag_kinds and (not others or rng.random() < cfg.trolley_share):
        return "trolley"
    return str(rng.choice(others))


def _size(rng: np.random.Generator, kind: str, models: list, scale: float = 1.0) -> np.ndarray:
    """A bag of `kind`'s size (cm: length, width, depth), `scale` of its usual range, grown to
    hold each of `models`."""
    size = np.array([rng.uniform(*r) for r in _BAG_SIZES[kind]]) * scale
    for model in models:  # a 17" laptop does not go into a small briefcase
        flat = np.sort(model.size)[::-1]  # any way up, its two longest sides lie in the bag
        size[:2] = np.maximum(size[:2], flat[:2] + 4.0)
        size[2] = max(size[2], flat[2] + 3.0)
    return size


def _compose_pair(rng: np.random.Generator, cfg: BagConfig, models: list[ObjectModel]) -> Bag:
    """Two bags in one scan, side by side across the belt, both travelling lengthwise, as a
    passenger puts two cabin trolleys on the belt together (sixray_benign: 7 of 136 scans).

    Each bag is `PAIR_SCALE` of its kind's usual size (grown to hold its objects of interest,
    `models` shared at random) and turned a little on its own. The pair is posed as one box
    that holds both as turned and a trolley's wheels (`_pose`, which may stretch it to fill the
    frame, each bag with it), so both share the scan's pitch and fan; then the two stand
    `PAIR_GAP_CM` apart between what each spans across the pair. Each bag is packed as a single
    one is (`_pack_bag`), the second over the first where the fan shows them overlapping."""
    mine = rng.random(len(models)) < 0.5
    shares = [[m for m, a in zip(models, mine, strict=True) if a == first] for first in (1, 0)]
    kinds = [_kind(rng, cfg) for _ in shares]
    sizes = [
        _size(rng, k, own, rng.uniform(*PAIR_SCALE)) for k, own in zip(kinds, shares, strict=True)
    ]
    turns = np.deg2rad(rng.uniform(-PAIR_TURN_DEG, PAIR_TURN_DEG, 2))
    gap = rng.uniform(*PAIR_GAP_CM)
    corners = [_corner(rng, cfg) for _ in kinds]
    reach = max(_wheel_reach(cfg, k, c) for k, c in zip(kinds, corners, strict=True))
    spans = [_spans(s, t) for s, t in zip(sizes, turns, strict=True)]
    box = np.array(
        [
            2 * max(along for along, _ in spans) + reach,  # the wheels stand out of the -x end
            2 * sum(across for _, across in spans) + gap,
            max(s[2] for s in sizes),
        ]
    )
    # put down square to the belt, within `max_angle_deg`: five of the seven real frames; a pair
    # turned by 20-35° as one box left a third more air than the two real turned frames show
    # along the belt as drawn; with `belt_across_image` across it, so that turned for export the
    # two stand side by side across the image as in the real scans
    lengthwise = not cfg.belt_across_image
    cfg = _oriented(replace(cfg, turned_share=0.0), portrait=lengthwise)
    pitch, fan, center, rot, fitted, cfg = _pose(cfg, box, rng, None, lengthwise)
    grown = fitted / box  # `_pose` may stretch the box to fill the frame: each bag with it
    sizes = [s * grown for s in sizes]
    spans = [_spans(s, t) for s, t in zip(sizes, turns, strict=True)]  # as grown
    canvas = Canvas(cfg.height, cfg.width, pitch, fan)
    outline = np.zeros((canvas.height, canvas.width), bool)
    objects, hosts, owns, records = [], [], [], []
    edge = -(2 * sum(across for _, across in spans) + gap) / 2  # the pair's first side
    for kind, size, corner, share, turn, (along, across) in zip(
        kinds, sizes, corners, shares, turns, spans, strict=True
    ):
        slack = max(fitted[0] - reach - 2 * along, 0.0)  # a shorter bag anywhere along
        x = reach / 2 + rng.uniform(-slack / 2, slack / 2)
        local = [x, edge + across, (size[2] - fitted[2]) / 2]  # both on the belt
        edge += 2 * across + gap
        bag_rot = rot @ rotation(0.0, 0.0, turn)
        bag, bag_hosts, own = _pack_bag(
            canvas, cfg, rng, kind, size, corner, center + rot @ local, bag_rot, share
        )
        outline |= bag.outline
        objects += bag.objects
        hosts += bag_hosts
        owns += [own] * len(bag_hosts)  # an item's cover leaves out its own bag, not the other
        records.append(
            {"kind": kind, "angle_deg": float(np.rad2deg(_heading(bag_rot))), **bag.info}
        )
    info = {**_scan_info(cfg, "pair", rot, pitch, fan, lengthwise), "bags": records}
    bag = Bag(canvas, outline=outline, objects=objects, info=info)
    _fill_covers(bag, hosts, owns)  # both drawn: the second bag may lie over the first's items
    return bag


def _spans(size: np.ndarray, turn: float) -> tuple[float, float]:
    """Half of what a box of `size` turned by `turn` (radians, about z) spans along its own
    length and across it, before the turn."""
    c, s = abs(np.cos(turn)), abs(np.sin(turn))
    return size[0] / 2 * c + size[1] / 2 * s, size[1] / 2 * c + size[0] / 2 * s


def _corner(rng: np.random.Generator, cfg: BagConfig) -> float | None:
    """A rounded shell's corner radius (cm), or None where `shell_corners` is (a box)."""
    return None if cfg.shell_corners is None else float(rng.uniform(*cfg.shell_corners))


def _wheel_reach(cfg: BagConfig, kind: str, corner: float | None) -> float:
    """How far (cm) a bag's wheels stand out of its -x end: a rounded trolley's, on its end."""
    return WHEEL_REACH if cfg.wheels_at_end and kind == "trolley" and corner is not None else 0.0


def _pack_bag(
    canvas: Canvas,
    cfg: BagConfig,
    rng: np.random.Generator,
    kind: str,
    size: np.ndarray,
    corner: float | None,
    center: np.ndarray,
    rot: np.ndarray,
    models: list[ObjectModel],
) -> tuple[Bag, list, list]:
    """Draw a bag of `kind` and `size` (cm), posed at `center` turned by `rot`, into `canvas`:
    its shell, clothes and clutter, the objects of interest `models`, then its packed fill. A
    Bag on `canvas` with its outline and objects (its info holds only what packing records),
    and the windows `_fill_covers` leaves out: each object's host's and the bag's own."""
    bag_parts = shell_parts(
        kind,
        size,
        rng,
        corner,
        moulding=cfg.moulding,
        fringe=cfg.fringe,
        creases=cfg.wall_creases,
        side_fittings=cfg.side_fittings,
        plates=cfg.frame_plates,
        on_walls=cfg.hardware_on_walls,
        side_ribs=cfg.side_ribs,
        tubes=cfg.handle_tubes,
        tube_metals=cfg.tube_metals,
        tube_walls=cfg.tube_walls,
        coated_folds=cfg.coated_folds,
        corner_points=cfg.corner_points,
        wheels_at_end=cfg.wheels_at_end,
        swivel_wheels=cfg.swivel_wheels,
        rail_fittings=cfg.rail_fittings,
        rail_webs=cfg.rail_webs,
        piping_on_walls=cfg.piping_on_walls,
        framed_buckles=cfg.framed_buckles,
        spinner_tyres=cfg.spinner_tyres,
        inner_webs=cfg.inner_webs,
        heavy_fittings=cfg.heavy_fittings,
        toothed_zips=cfg.toothed_zips,
        cast_fittings=cfg.cast_fittings,
        hard_shells=cfg.hard_shells,
        side_handles=cfg.side_handles,
        domed_turrets=cfg.domed_turrets,
        piping_wires=cfg.piping_wires,
        rounded_plates=cfg.rounded_plates,
        rail_spacing=cfg.rail_spacing,
        flush_housings=cfg.flush_housings,
        varied_fittings=cfg.varied_fittings,
        varied_rails=cfg.varied_rails,
        rail_walls=cfg.rail_walls,
        plastic_buckles=cfg.plastic_buckles,
    )
    shell_model = ObjectModel("bag", bag_parts, tuple(size))
    lining = [p.solid for p in shell_model.parts if p.role == "lining"]
    rounded = np.asarray(lining[0].points) if corner is not None and lining else None
    frame = _Frame(center, rot, size / 2 - [1.0, 1.0, 1.0], rounded)
    placed_shell = frame.place(shell_model, (0, 0, 0), np.eye(3)).parts
    folds = []  # the wall cloth's folds, drawn in a window of their own and softened
    if cfg.soft_walls > 0:
        folds = [p for p in placed_shell if p.role in _WALL_CLOTH]
        placed_shell = [p for p in placed_shell if p.role not in _WALL_CLOTH]
    if kind == "carton":
        board = side_rng(rng, b"carton board")
        own, outline = _draw_carton(canvas, placed_shell, _heading(rot), board)
    else:
        shell_window = canvas.draw(placed_shell)
        own = [shell_window]  # the bag's own windows, which an anomaly's cover leaves out
        outline = canvas.full_mask(shell_window, shell_window.footprint())
    if folds:
        streaks = (cfg.streak_wander, cfg.streak_length) if cfg.wall_streaks else None
        drawn, soft = _draw_soft(canvas, folds, cfg.soft_walls, cfg.soft_grain, streaks)
        outline |= drawn
        own.append(soft)
    inside = None  # a rounded shell holds the clothes in: they end at its walls
    if corner is not None:
        scratch = Canvas(canvas.height, canvas.width, canvas.pitch, canvas.fan)
        faces = (p for p in placed_shell if p.role == "shell" and isinstance(p.solid, Sheet))
        scratch.draw(p for p in faces if p.sign > 0)  # not a carton's slit between its flaps
        inside = scratch.footprint()

    load = _Load(frame.inner)
    poses = _host_poses(cfg, frame, models, rng) if cfg.hosts_first else []
    for _, position, extent in poses:  # hard things are kept off them
        load.add(position, extent + np.array([0.0, 0.0, cfg.host_room / 2]))
    share = float(np.prod(size)) / _PACKED_VOLUME if cfg.fill_by_volume else 1.0
    varied = tuple(cfg.fullness) != (1.0, 1.0)  # (1, 1): packed alike, as v2.0-v2.68
    full = float(side_rng(rng, b"fullness").uniform(*cfg.fullness)) if varied else 1.0
    share *= full
    if kind == "carton":
        rigid = _pack_carton(canvas, frame, rng, load, share, inside, cfg.spread)
    else:
        rigid = []
        for garment in _clothes(rng, _packed(rng, cfg.garments, share), cfg.rolled_clothes):
            placed, position = _place_clutter(
                frame,
                garment,
                rng,
                load,
                aligned=cfg.stacked_clothes,
                to_walls=cfg.against_walls,
                overflow=cfg.clothes_to_walls,
            )
            crumple = side_rng(rng, b"crumple") if cfg.own_crumple else rng
            walls = _wall_cut(frame, position) if cfg.clothes_to_walls > 0 else None
            _draw_garment(
                canvas,
                placed,
                crumple,
                inside,
                cfg.soft_cloth,
                cfg.cloth_creases,
                cfg.cloth_weave,
                walls,
            )
        for _ in range(_packed(rng, cfg.clutter, share)):
            item = random_clutter(
                rng,
                exclude=("garment",),
                frequencies={"cable": cfg.cables, **dict(cfg.clutter_mix)},
                coiled_cables=cfg.coiled_cables,
                wound_coils=cfg.wound_coils,
                fanned_keys=cfg.fanned_keys,
                heavy=cfg.heavy_goods,
                folded_umbrellas=cfg.folded_umbrellas,
                framed_buckles=cfg.framed_buckles,
                cast_buckles=cfg.cast_belt_buckles,
                hardware=cfg.trinket_hardware,
                rings=cfg.trinket_rings,
                eva_soles=cfg.eva_soles,
            )
            spread, walls = cfg.spread, cfg.against_walls
            where, _ = _place_clutter(frame, item, rng, load, tries=spread, to_walls=walls)
            rigid.append(where.parts)
    canvas.draw_unseen(rigid)  # placing them draws no pixels: all drawn at once, faster

    bag = Bag(canvas, outline=outline)
    poses = poses or _host_poses(cfg, frame, models, rng)
    hosts = []  # each object's own window, which its anomaly's cover leaves out
    for model, (turn, position, _) in zip(models, poses, strict=True):
        placed = frame.place(model, position, turn)
        drawn = draw(canvas, placed)
        if not drawn.instance.any():
            continue
        bag.objects.append(
            ObjectTruth(
                model.category,
                drawn.instance,
                placed.anomalous,
                placed.anomaly_type,
                drawn.anomaly,
                anomaly_window=drawn.anomaly_window,
                replaced_window=drawn.replaced_window,
                design=model.design,
            )
        )
        hosts.append(drawn.host_window)
    if cfg.packed_fill[1] > 0 and kind != "carton":  # last: every other draw as without it
        held = inside if inside is not None else outline  # a box shell: its whole footprint
        fill = (cfg.packed_fill[0] * full, cfg.packed_fill[1] * full)
        material, solid = _draw_packed_fill(canvas, frame, rng, held, fill)
        bag.info["packed_fill"] = {"material": material, "solid_cm": round(solid, 4)}
    if varied:  # v2.0-v2.68's records stay as they were
        bag.info["fullness"] = round(full, 4)
    return bag, hosts, own


def _fill_covers(bag: Bag, hosts: list, owns: list[list]) -> None:
    """Each anomalous object's `anomaly_cover`, once all is drawn: what lies over its item,
    leaving out its own host's window (`hosts`, one per object) and its bag's own windows
    (`owns`, one list per object)."""
    for obj, host, own in zip(bag.objects, hosts, owns, strict=True):
        if obj.anomalous and obj.anomaly_window is not None and obj.anomaly_mask is not None:
            obj.anomaly_cover = anomaly_cover(
                bag.canvas, obj.anomaly_window, obj.anomaly_mask, [host, *own]
            )


def _pack_carton(
    canvas: Canvas,
    frame: _Frame,
    rng: np.random.Generator,
    load: _Load,
    share: float,
    inside: np.ndarray | None,
    spread: int,
) -> list:
    """Pack a carton: wads of crumpled film (`clutter.wrapping`, drawn by `_draw_wad`), then
    food and goods (`clutter.carton_goods`) pushed to its walls, each at the least packed of
    `spread` (at least 4) places. Gives the goods' placed parts, to be drawn at once."""
    for _ in range(_packed(rng, _CARTON_WADDING, share)):
        placed, _ = _place_clutter(frame, wrapping(rng), rng, load, to_walls=True)
        _draw_wad(canvas, placed, side_rng(rng, b"crumple"), inside)
    rigid = []
    for _ in range(_packed(rng, _CARTON_GOODS, share)):
        item = carton_goods(rng)
        where, _ = _place_clutter(frame, item, rng, load, tries=max(spread, 4), to_walls=True)
        rigid.append(where.parts)
    return rigid


def _clothes(rng: np.random.Generator, count: int, rolled: float) -> Iterator[ObjectModel]:
    """`count` garments as packed, one by one: folded, or with chance `rolled` a row of 2-5
    rolled ones (`rolled_clothes`; a bag's last row may be one roll) standing for as many.
    Draws nothing more when `rolled` is 0."""
    left = count
    while left > 0:
        if rolled > 0 and rng.random() < rolled:
            n = min(int(rng.integers(2, 6)), left)
            yield rolled_clothes(rng, n)
        else:
            n = 1
            yield random_clutter(rng, only="garment")
        left -= n


def _packed(rng: np.random.Generator, counts: tuple[int, int], share: float) -> int:
    """How many items of a range go into a bag that holds `share` of a mid-sized trolley: at
    least one when the count drawn is some, none when it is none (until v2.68 a draw of none, as
    a range of (0, 0) always gives, still gave one item to every bag not exactly a mid-sized
    trolley's size)."""
    n = int(rng.integers(*counts, endpoint=True))
    return n if share == 1.0 or n == 0 else max(round(n * share), 1)


def _host_poses(cfg: BagConfig, frame: _Frame, models: list, rng: np.random.Generator) -> list:
    """Each object of interest's pose (`_host_pose`), the least covered by the ones before
    of `host_spread` drawn."""
    laid = _Load(frame.inner)
    poses = []
    for model in models:
        drawn = [_host_pose(cfg, frame, model, rng) for _ in range(max(cfg.host_spread, 1))]
        turn, position, extent = min(drawn, key=lambda pose: laid.covered(*pose[1:]))
        laid.add(position, extent)
        poses.append((turn, position, extent))
    return poses


def _host_pose(cfg: BagConfig, frame: _Frame, model: ObjectModel, rng: np.random.Generator):
    """Where an object of interest lies in the bag: (turn, position, half extents), bag axes."""
    base = packed_pose(model.category, rng) if cfg.packed_poses else None
    square = None  # numbers of its own: the bag's draws are the same either way
    if cfg.aligned_hosts > 0:
        square = (side_rng(rng, b"host heading"), cfg.aligned_hosts)
    turn, position = _fit(
        frame.inner,
        model.size,
        rng,
        tilt=0.12,
        base=base,
        outline=frame.outline,
        to_walls=cfg.against_walls,
        square=square,
    )
    return turn, position, np.abs(turn) @ (np.asarray(model.size) / 2)


class _Load:
    """How high the bag is packed over each 2 cm cell of its floor (bag coordinates), counted
    from the boxes of the items placed: where a packer would still find room."""

    def __init__(self, inner: np.ndarray, cell: float = 2.0) -> None:
        self.half, self.cell = np.asarray(inner[:2], float), cell
        self.grid = np.zeros(np.maximum(np.ceil(2 * self.half / cell), 1).astype(int))

    def _cells(self, position, extent) -> tuple[slice, slice]:
        shape = np.array(self.grid.shape)
        lo = np.floor((position[:2] - extent[:2] + self.half) / self.cell).astype(int)
        hi = np.ceil((position[:2] + extent[:2] + self.half) / self.cell).astype(int)
        lo = np.clip(lo, 0, shape - 1)
        hi = np.clip(hi, lo + 1, shape)
        return slice(lo[0], hi[0]), slice(lo[1], hi[1])

    def under(self, position, extent) -> float:
        """The mean height packed under an item's box (half extents `extent`) at `position`."""
        return float(self.grid[self._cells(position, extent)].mean())

    def covered(self, position, extent) -> float:
        """The share of an item's box (half extents `extent`) at `position` over something."""
        return float((self.grid[self._cells(position, extent)] > 0).mean())

    def add(self, position, extent) -> None:
        self.grid[self._cells(position, extent)] += 2 * extent[2]


def _place_clutter(
    frame: _Frame,
    item: ObjectModel,
    rng,
    load: _Load,
    aligned: bool = False,
    tries: int = 1,
    to_walls: bool = False,
    overflow: float = 0.0,
) -> tuple[ObjectModel, np.ndarray]:
    """A clutter item placed where it fits in the bag, at the least packed of `tries` places
    (`load`, which it then adds to); a rigid one within the shell's outline. `to_walls`: as
    often against the walls as anywhere (`_fit`); `overflow`: up to this far (cm) past them, a
    garment pressed into them. Gives the placed item and its position (bag coordinates)."""
    rigid = item.category != "garment"  # a garment is cut to the walls instead (`_draw_garment`)
    best = None
    for _ in range(max(tries, 1)):
        turn, position = _fit(
            frame.inner,
            item.size,
            rng,
            tilt=0.08,
            aligned=aligned,
            outline=frame.outline if rigid else None,
            to_walls=to_walls,
            overflow=overflow,
        )
        extent = np.abs(turn) @ (np.asarray(item.size) / 2)
        under = load.under(position, extent) if tries > 1 else 0.0
        if best is None or under < best[0]:
            best = (under, turn, position, extent)
    _, turn, position, extent = best
    load.add(position, extent)
    return frame.place(item, position, turn), position


def _heading(rot: np.ndarray) -> float:
    """The bag's long axis's heading in the image (radians) under turn `rot`."""
    return float(np.arctan2(rot[1, 0], rot[0, 0]))


# a corrugated board's flutes (cm apart, A flute, est.): face-on, the beam crosses the fluted
# sheets between the liners steeply on their flanks, twice a flute, up to about twice their
# thickness there; they are some 40 % of a double-wall board's mass, so the board is about
# 20 % thicker along those lines than between them (est.)
_FLUTE = 0.85
_FLUTE_DEPTH = 0.2  # the board's thickness varies by this share about its mean


def _draw_carton(
    canvas: Canvas, parts: list, angle: float, rng: np.random.Generator
) -> tuple[list[Canvas], np.ndarray]:
    """Draw a carton (`shell.carton_parts`): its walls as they are, its faces' outer flaps with
    their flutes across the carton's long axis (`angle`, radians on the belt: the fan's stretch
    across it turns and spaces the lines in the image a little, which this leaves out) and the
    inner flaps with theirs along it, each in a window of its own. A board is never flat: its
    flutes wander by about a sixth of a flute over 5 cm and fade in and out (`rng`). Gives the
    windows and the full-size mask of what they drew."""
    outline = np.zeros((canvas.height, canvas.width), bool)
    windows = []
    walls = [p for p in parts if p.role == "shell" and not isinstance(p.solid, Sheet)]
    faces = [p for p in parts if p.role == "shell" and isinstance(p.solid, Sheet)]
    inner = [p for p in parts if p.role == "inner_flap"]
    for group, heading in ((walls, None), (faces, angle), (inner, angle + np.pi / 2)):
        window = canvas.window(p.solid for p in group)
        if window is None:
            continue
        window.add_parts(group)
        if heading is not None:  # the board thicker along lines across `heading`
            shape, cells = (window.height, window.width), 5.0 / window.pitch
            rows = np.arange(shape[0], dtype=np.float32)[:, None]
            cols = np.arange(shape[1], dtype=np.float32)[None, :]
            wave = (np.cos(heading) * cols + np.sin(heading) * rows) * (2 * window.pitch / _FLUTE)
            wave += 0.3 * _smooth_noise(shape, cells, rng, cubic=False)
            fade = np.clip(0.7 + 0.3 * _smooth_noise(shape, cells, rng, cubic=False), 0.2, 1.0)
            flutes = 1.0 + _FLUTE_DEPTH * fade * np.cos(2 * np.pi * wave)
            for material in window.maps:
                window.maps[material] *= flutes
        outline |= canvas.full_mask(window, window.footprint())
        canvas.merge(window)
        windows.append(window)
    return windows, outline


def _draw_garment(
    canvas: Canvas,
    placed: ObjectModel,
    rng,
    inside: np.ndarray | None,
    soft_cm: float = 0.0,
    creases: float = 0.0,
    weave: float = 0.0,
    walls: Part | None = None,
) -> None:
    """Draw a placed garment crumpled, and cut to `inside` (the canvas's pixels within the
    shell) when given; its cloth's edges softened over `soft_cm` (`BagConfig.soft_cloth`), its
    creases as strong as `creases` (`BagConfig.cloth_creases`, random numbers of their own), its
    weave's grain as strong as `weave` (`BagConfig.cloth_weave`, numbers of its own too).
    `walls`: the inside of the bag's walls at the garment's height (`_wall_cut`): pressed into
    them, it ends at them, its cloth thickened by what they cut off, as if folded back (at most
    `WALL_FOLD_MAX` times: a garment mostly past them loses the rest), its metal past them left
    out."""
    window = canvas.window((p.solid for p in placed.parts), margin=int(2.0 / canvas.pitch))
    if window is None:
        return
    window.add_parts(placed.parts)
    cloth = {p.material for p in placed.parts if p.role in ("fabric", "seam")}  # not its metal
    if soft_cm > 0:  # fold edges rounded: the cloth's edges spread over about 2.5 `soft_cm`
        for material in cloth:
            window.maps[material] = _softened(window.maps[material], soft_cm / window.pitch)
    first = placed.parts[0].solid
    along = None
    if isinstance(first, Cylinder):  # rolled clothes (`rolled_clothes`): streaked along
        axis = np.asarray(first.rot)[:2, 2]
        along = float(np.arctan2(axis[1], axis[0]))
    _crumple(window, rng, along=along)
    # seeded by where the garment lies: the bag's own numbers as without them
    place = np.array([window.row0, window.col0, window.height, window.width], np.int64)
    if creases > 0:
        folds = _cloth_folds(window, own_rng(place, b"cloth creases"), creases, along)
        _reshape_cloth(window, cloth, folds)
    if weave > 0:
        grain = _weave((window.height, window.width), window.pitch, own_rng(place, b"weave"))
        _reshape_cloth(window, cloth, np.maximum(grain * weave + 1.0, 0.0))
    if walls is not None:
        scratch = Canvas(
            window.height,
            window.width,
            window.pitch,
            window.fan,
            row0=window.row0,
            col0=window.col0,
        )
        scratch.add_parts([walls])
        held = scratch.footprint().astype(np.float32)
        _reshape_cloth(window, cloth, held, most=WALL_FOLD_MAX)  # folded back where stopped
        for material, t in window.maps.items():
            if material not in cloth:  # its buttons and rivets past the walls are not there
                t *= held
    if inside is not None:
        held = inside[canvas.region(window)]
        for t in window.maps.values():
            t *= held
    canvas.merge(window)


WALL_FOLD_MAX = 1.5  # `_draw_garment`: a garment cut at the walls thickens by at most this


def _wall_cut(frame: _Frame, position: np.ndarray) -> Part:
    """The inside of the bag's walls as a thin sheet at the height of an item at `position`
    (bag coordinates), placed as that item is, tilts included: its image is where such an item
    lies within the walls, as the fan sees it."""
    if frame.outline is not None:
        outline = frame.outline
    else:
        x, y = frame.inner[:2]
        outline = np.array([(-x, -y), (x, -y), (x, y), (-x, y)])
    at = np.asarray(position, float)
    sheet = outline_sheet("walls", "air", outline - at[:2], 0.01, 0.0)
    return frame.place(ObjectModel("walls", [sheet], (1.0, 1.0, 1.0)), at, np.eye(3)).parts[0]


def _reshape_cloth(
    window: Canvas, cloth: set[str], factor: np.ndarray, most: float | None = None
) -> None:
    """Multiply the cloth materials' maps by `factor`, each map's mass kept: moved, not lost;
    its buttons and rivets keep their metal. `most`: no map is scaled up more than this to
    keep its mass (what is left over is lost)."""
    for material in cloth:
        t = window.maps[material]
        shaped = t * factor
        scale = t.sum() / max(float(shaped.sum()), 1e-9)
        shaped *= scale if most is None else min(scale, most)
        window.maps[material] = shaped


def _weave(shape: tuple[int, int], pitch: float, rng: np.random.Generator) -> np.ndarray:
    """A unit-σ random field of `shape` whose grain is `WEAVE_CM` across: a stack of cloth's
    weave, knit and lint, uneven from one millimetre to the next (zeros for a window too small
    to vary)."""
    grain = rng.standard_normal(shape).astype(np.float32)
    sigma = max(WEAVE_CM / pitch / 2.0, 0.3)
    grain = cv2.GaussianBlur(grain, (0, 0), sigma)
    spread = float(grain.std())
    return grain / spread if spread > 1e-6 else np.zeros(shape, np.float32)


def _draw_wad(canvas: Canvas, placed: ObjectModel, rng, inside: np.ndarray | None) -> None:
    """Draw a wad of crumpled film (`clutter.wrapping`): its mass gathered into the creases where
    the crumple folds it over, a network of straight ridges between the facets it leaves (the
    edges of random cells some 2.5 cm across, `_creases_of`), about a pixel wide; the facets keep
    0.3 of its thickness and the creases up to 10.3 times it (before the mass is made up), fading
    in and out over some 4 cm and broken up over about 1 cm into wisps; cut to `inside` when
    given.
    Seen through the goods, the wispy lines of real cartons' packing (sixray_benign)."""
    window = canvas.window((p.solid for p in placed.parts), margin=2)
    if window is None:
        return
    window.add_parts(placed.parts)
    shape = (window.height, window.width)
    fade = _smooth_noise(shape, 4.0 / window.pitch, rng, cubic=False)
    fade += _smooth_noise(shape, 1.2 / window.pitch, rng, cubic=False)  # broken into wisps
    np.clip(fade * 0.5 + 0.35, 0.0, 1.0, out=fade)
    weave = 0.3 + 10.0 * _creases_of(shape, 2.5 / window.pitch, rng) * fade
    _keep_mass(window.maps.values(), weave)
    for material in window.maps:
        window.maps[material] *= weave
        if inside is not None:
            window.maps[material] *= inside[canvas.region(window)]
    canvas.merge(window)


def _creases_of(shape, cell_px: float, rng: np.random.Generator) -> np.ndarray:
    """1 on the edges of random cells about `cell_px` across (a Voronoi diagram of random
    points), softened over half a pixel, 0 elsewhere: the straight ridges of crumpled film."""
    h, w = shape
    seeds = np.ones(shape, np.uint8)
    n = max(int(h * w / cell_px**2), 1)
    seeds[rng.integers(0, h, n), rng.integers(0, w, n)] = 0
    _, labels = cv2.distanceTransformWithLabels(
        seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_CCOMP
    )
    edges = np.zeros(shape, np.float32)
    edges[1:] += labels[1:] != labels[:-1]
    edges[:, 1:] += labels[:, 1:] != labels[:, :-1]
    return np.minimum(cv2.GaussianBlur(edges, (0, 0), 0.5), 1.0)


_FILL_LAYERS = 8  # `_draw_packed_fill`'s layers, floor to top


def _draw_packed_fill(
    canvas: Canvas, frame: _Frame, rng, inside: np.ndarray | None, solid_cm: tuple[float, float]
) -> tuple[str, float]:
    """Draw the soft goods that fill a packed bag's depth: `_FILL_LAYERS` layers of cloth from
    the shell's floor to its top, each its inner outline drawn in by up to 5 % and moved up to
    1 cm, together `solid_cm` (drawn) of solid cotton or its mass of polyester; uneven over
    about 12 cm (±35 %) and softened as clothes are (σ 1.5 cm). The fan sees each layer where
    its height puts it, so together they fill the band between the walls' two faces, as a
    real bag's stacks of clothes do; garments drawn one by one each lie at one height.
    Returns the cloth's material and its solid thickness (cm), for the record."""
    total = float(rng.uniform(*solid_cm))
    material = "cotton" if rng.random() < 0.7 else "pet"
    total *= as_cotton(material)  # the same mass
    outline = frame.outline
    if outline is None:
        hx, hy = frame.inner[:2]
        outline = np.array([(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)])
    share = rng.uniform(0.6, 1.4, _FILL_LAYERS)
    share /= share.sum()
    top = frame.inner[2] - 0.5
    parts = []
    for z, part in zip(np.linspace(-top, top, _FILL_LAYERS), share, strict=True):
        drawn_in = outline * rng.uniform(0.95, 1.0, 2) + rng.uniform(-1.0, 1.0, 2)
        parts.append(outline_sheet("fabric", material, drawn_in, total * part, float(z)))
    stack = ObjectModel("garment", parts, tuple(2 * frame.inner))
    layers = frame.place(stack, (0, 0, 0), np.eye(3))
    window = canvas.window((p.solid for p in layers.parts), margin=int(3.0 / canvas.pitch))
    if window is None:
        return material, total
    window.add_parts(layers.parts)
    t = window.maps[material]
    uneven = np.clip(
        1.0 + 0.35 * _smooth_noise(t.shape, 12.0 / window.pitch, rng, cubic=False), 0.2, None
    )
    uneven *= t.sum() / max(float((t * uneven).sum()), 1e-9)  # the cloth drawn, all of it
    t = _softened(t * uneven, 1.5 / window.pitch)
    if inside is not None:
        t *= inside[canvas.region(window)]
    window.maps[material] = t.astype(np.float32, copy=False)
    canvas.merge(window)
    return material, total


def _cloth_folds(
    window: Canvas, rng: np.random.Generator, amount: float, along: float | None = None
) -> np.ndarray:
    """A multiplier on a garment's cloth: its creases. They follow the zero lines of a random
    field 2.5 cm across and 10 cm along a heading (`along`, radians, for a roll; drawn
    otherwise), so they run roughly side by side: on each the cloth thins to a pale line 2-3 mm
    wide, and it is thicker on one side of the line than on the other (a fold's extra layers),
    both fading in and out over about 6 cm; and the cloth is uneven over about 3 cm. `amount`
    1: the line thins the cloth by 60 %, the sides differ by ±35 %, the unevenness is ±15 %
    (1 σ); the multiplier is floored at 0.2."""
    shape, pitch = (window.height, window.width), window.pitch
    heading = float(rng.uniform(0, np.pi)) if along is None else along
    field = _stretched_noise(shape, pitch, rng, across_cm=2.5, along_cm=10.0, heading=heading)
    field /= max(float(field.std()), 1e-6)
    fade = _smooth_noise(shape, 6.0 / pitch, rng)
    fade += 0.3
    np.clip(fade, 0.0, 1.0, out=fade)
    line = np.exp(-np.square(field / 0.06))  # |field| < 0.06: a few px at a field's 2.5 cm
    fold = np.tanh(field / 0.3)
    out = 1.0 + amount * (fade * (0.35 * fold - 0.6 * line))
    out += (0.15 * amount) * _smooth_noise(shape, 3.0 / pitch, rng)
    np.clip(out, 0.2, None, out=out)
    return out.astype(np.float32, copy=False)


def _stretched_noise(
    shape, pitch: float, rng: np.random.Generator, across_cm: float, along_cm: float, heading: float
) -> np.ndarray:
    """A smooth random field of `shape` (pixels of `pitch` cm) whose cells are `along_cm` long
    at `heading` (radians, image axes) and `across_cm` wide: a grid of random values read at
    each pixel's place along and across the heading (bicubic)."""
    h, w = shape
    reach = np.hypot(h, w) * pitch  # cm across the window's diagonal
    grid = rng.standard_normal((int(reach / across_cm) + 4, int(reach / along_cm) + 4))
    cos_h, sin_h = np.cos(heading), np.sin(heading)
    to_grid = np.array(  # pixel (x, y) → grid (column, row): cells along and across the heading
        [
            [cos_h * pitch / along_cm, sin_h * pitch / along_cm, 0.0],
            [-sin_h * pitch / across_cm, cos_h * pitch / across_cm, 0.0],
        ]
    )
    centre = np.array([grid.shape[1], grid.shape[0]]) / 2 - to_grid[:, :2] @ (w / 2, h / 2)
    to_grid[:, 2] = centre  # the window's centre on the grid's
    flags = cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(grid.astype(np.float32), to_grid, (w, h), flags=flags)


# a soft bag's wall cloth as it folds: ragged edge, buckled bands, bulges, seams (`shell.py`)
_WALL_CLOTH = frozenset({"fringe", "side_wall", "side_seam"})
# with `wall_streaks`, the share (σ) of the wall cloth's grain that is isotropic, fine grain
_STREAKED_GRAIN = 0.7


def _draw_soft(
    canvas: Canvas,
    parts: list,
    sigma_cm: float,
    grain: float = 0.0,
    streaks: tuple[float, float] | None = None,
) -> tuple[np.ndarray, Canvas | None]:
    """Draw `parts` (wires or sheets) in a window of their own, blur each material's map by
    `sigma_cm`, vary it by `grain` (σ, a share) over 2.5 mm, or with `streaks` (how far they
    wander and how long they run, cm) over 1.2 mm (about a pixel) and in fine streaks along the
    cloth's edges (`_wall_streaks`), keeping the cloth's mass, and merge it; gives the full-size
    mask of what they drew before the blur, and the window."""
    sigma_px = sigma_cm / canvas.pitch
    window = canvas.window((p.solid for p in parts), margin=int(np.ceil(3 * sigma_px)))
    if window is None:
        return np.zeros((canvas.height, canvas.width), bool), None
    window.add_parts(parts)
    drawn = canvas.full_mask(window, window.footprint())
    weave = None
    if grain > 0:  # on random numbers of its own, seeded by the first fold's outline
        key = np.asarray(parts[0].solid.points, float)
        cells = (0.25 if streaks is None else 0.12) / window.pitch
        shape = (window.height, window.width)
        field = _smooth_noise(shape, cells, own_rng(key, b"wall grain"))
        if streaks is not None:  # fine grain, and streaks along the cloth's edges
            field *= _STREAKED_GRAIN
            streaked = _wall_streaks(window, own_rng(key, b"wall streaks"), *streaks)
            field += math.sqrt(1 - _STREAKED_GRAIN**2) * streaked
            np.clip(field, -2.0, 2.0, out=field)  # fading streaks have long tails: no holes
        weave = 1.0 + grain * field
        np.maximum(weave, 0.0, out=weave)
    for material, t in window.maps.items():
        window.maps[material] = _softened(t, sigma_px)
    if weave is not None:
        if streaks is not None:  # a streak runs an edge's length, where cloth is thick or thin
            _keep_mass(window.maps.values(), weave)
        for material in window.maps:
            window.maps[material] *= weave
    canvas.merge(window)
    return drawn, window


def _keep_mass(maps, weave: np.ndarray) -> None:
    """Scale `weave` in place so that weaving `maps` (thickness maps of its shape) keeps their
    total: a field of mean 1 by area need not have mean 1 weighted by thickness."""
    total = sum(float(t.sum(dtype=np.float64)) for t in maps)
    woven = sum(float(np.multiply(t, weave).sum(dtype=np.float64)) for t in maps)
    if total > 0 and woven > 0:
        weave *= np.float32(total / woven)


def _wall_streaks(
    window: Canvas, rng: np.random.Generator, wander: float, length: float
) -> np.ndarray:
    """A random field of fine streaks (2 mm apart, 1-2 px) that follow the edges of what
    `window` holds, wandering across them by about `wander` cm and fading in and out over
    about `length` cm along them: the fibres and quilting of soft wall cloth seen edge-on,
    which real scans show as streaks along the rim where isotropic grain reads as blotches
    (mean 0, standard deviation 1 over the cloth)."""
    shape, pitch = (window.height, window.width), window.pitch
    cloth = window.footprint().astype(np.uint8)
    inward = cv2.distanceTransform(cloth, cv2.DIST_L2, 3)  # px from the cloth's edge
    np.minimum(inward, float(max(shape)), out=inward)  # cloth filling the window: no edge in it
    inward += _smooth_noise(shape, 2.5 / pitch, rng, cubic=False) * (wander / pitch)
    field = _faded_lines(inward * (pitch / 0.2), length / pitch, 0.6, rng)
    if not cloth.any():
        return field
    field -= float(field[cloth > 0].mean())
    spread = float(field[cloth > 0].std())
    return field / spread if spread > 0 else field


def _faded_lines(
    across: np.ndarray, fade_px: float, floor: float, rng: np.random.Generator
) -> np.ndarray:
    """Streaks that come and go: a random value at each whole step of `across` (a coordinate per
    pixel, shifted in place to start at 0), interpolated between, times a smooth random fade
    (cells of `fade_px`, raised by `floor`, never below 0)."""
    across -= across.min()
    line = rng.standard_normal(int(across.max()) + 2).astype(np.float32)
    field = np.interp(across.ravel(), np.arange(len(line)), line).astype(np.float32)
    fade = _smooth_noise(across.shape, fade_px, rng, cubic=False)
    fade += floor
    np.maximum(fade, 0.0, out=fade)
    return field.reshape(across.shape) * fade


def _softened(t: np.ndarray, sigma_px: float) -> np.ndarray:
    """`t` blurred by a Gaussian of `sigma_px`, computed at 1/step of its resolution, step =
    σ/3 px rounded down (the cloth's thickness before its wrinkles is smooth, so little is lost:
    0.5 % of the thickness at σ 10 px, for a step² times cheaper blur). Nothing is reflected
    back at the window's border."""
    step = max(1, int(sigma_px // 3))
    border = cv2.BORDER_CONSTANT
    if step == 1:
        return cv2.GaussianBlur(t, (0, 0), sigma_px, borderType=border)
    h, w = t.shape
    small = cv2.resize(t, (max(w // step, 1), max(h // step, 1)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma_px / step, borderType=border)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _smooth_noise(shape, cells_px: float, rng: np.random.Generator, cubic: bool = True):
    """Unit-variance random field of `shape`, smooth over about `cells_px` pixels.

    Linear interpolation is enough (and faster) for fields much coarser than their creases.
    """
    h, w = shape
    small = rng.standard_normal((max(int(h / cells_px), 2), max(int(w / cells_px), 2)))
    how = cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR
    return cv2.resize(small.astype(np.float32), (w, h), interpolation=how)


def _crumple(window: Canvas, rng: np.random.Generator, along: float | None = None) -> None:
    """Bend a garment's straight folds and wrinkle its cloth: a smooth warp and modulation.

    `along`: the cloth is rolled with its axis at this heading (radians, image axes): thick, so
    the mm-scale wrinkles of a folded garment would read as spots; it gets half the coarse
    wrinkles and fine streaks along the roll (`_streaks`) instead."""
    h, w = window.height, window.width
    reach = 1.2 / window.pitch  # the warp moves cloth by about 1 cm
    cells = 8.0 / window.pitch
    gx = _smooth_noise((h, w), cells, rng, cubic=False) * reach
    gy = _smooth_noise((h, w), cells, rng, cubic=False) * reach
    gx += np.arange(w, dtype=np.float32)[None, :]
    gy += np.arange(h, dtype=np.float32)[:, None]
    wrinkles = _smooth_noise((h, w), 1.5 / window.pitch, rng, cubic=False)
    if along is None:
        wrinkles *= 0.3
        wrinkles += 0.25 * _smooth_noise((h, w), 0.5 / window.pitch, rng)  # creases mm apart
    else:
        wrinkles *= 0.15
        wrinkles += 0.3 * _streaks((h, w), window.pitch, along, rng)
    wrinkles += 1.0
    np.clip(wrinkles, 0.2, 2.2, out=wrinkles)
    for material, t in window.maps.items():
        warped = cv2.remap(t, gx, gy, cv2.INTER_LINEAR, borderValue=0)
        window.maps[material] = cv2.multiply(warped, wrinkles)


def _streaks(
    shape: tuple[int, int], pitch: float, heading: float, rng: np.random.Generator
) -> np.ndarray:
    """A random field of fine streaks (3 mm across) running at `heading` (radians), broken up
    every few cm along: the creases of rolled cloth (standard deviation about 0.4)."""
    h, w = shape
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float32)
    across = (np.cos(heading) * rows - np.sin(heading) * cols) * (pitch / 0.3)
    return _faded_lines(across, 4.0 / pitch, 0.3, rng)


def anomaly_change(
    canvas: Canvas, window: Canvas, replaced: Canvas | None, scanner: Scanner
) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray, np.ndarray]:
    """|Δ ln T_high| an anomaly causes over its window, with T_high and its noise variance.

    Compared with the canvas without the anomaly's thickness and, for a swapped part
    (`replaced`), with the design's own part in its place. Gives (region, delta, T, variance).
    """
    region = canvas.region(window)
    with_all = {m: t[region] for m, t in canvas.maps.items()}
    without = {m: t - window.maps.get(m, 0) for m, t in with_all.items()}
    if replaced is not None:
        for m, t in replaced.maps.items():
            without[m] = without.get(m, 0) + t
    _, (t_with, variance) = scanner.signals(with_all)
    _, t_without = scanner.transmissions(without)
    t_with = np.maximum(t_with, 1e-9)
    delta = np.abs(np.log(t_with) - np.log(np.maximum(t_without, 1e-9)))
    return region, delta, t_with, variance


def anomaly_visibility(bag: Bag, scanner: Scanner) -> None:
    """Fill each anomalous object's visibility: mean |Δ ln T_high| over its mask / noise σ.

    Computed on the anomaly's window only, with and without the anomaly's thickness (and, for
    a swapped part, with the design's original part in its place).
    """
    cfg = scanner.config
    photons = cfg.photons_per_pixel * (bag.canvas.pitch / cfg.detector_pitch_cm) ** 2
    for obj in bag.objects:
        if not obj.anomalous:
            continue
        window = obj.anomaly_window
        if window is None or obj.anomaly_mask is None or not obj.anomaly_mask.any():
            obj.anomaly_visibility = 0.0  # thinner than the pixel grid samples: no trace at all
            continue
        region, delta, t, variance = anomaly_change(
            bag.canvas, window, obj.replaced_window, scanner
        )
        sigma_ln = np.sqrt(variance / photons + cfg.electronic_noise**2) / t
        m = obj.anomaly_mask[region]
        obj.anomaly_visibility = float((delta[m] / sigma_ln[m]).mean())


# `anomaly_cover`: what counts as a look-alike over an inserted item: at least this mass
# thickness (g/cm²) of material of at least this Zeff (metal, glass, PVC, circuit board; about
# 0.4 mm of aluminium, 0.13 mm of steel or 0.7 mm of PVC)
COVER_ZEFF = 12.0
COVER_G_CM2 = 0.1


def anomaly_cover(
    canvas: Canvas, window: Canvas, mask: np.ndarray, own: Iterable[Canvas | None]
) -> float | None:
    """The share of an anomaly's pixels (`mask`, full size; its drawn `window`) over or under
    which the rest of `canvas` holds at least COVER_G_CM2 of material of Zeff ≥ COVER_ZEFF,
    leaving out the anomaly's window and the `own` windows (its host's; the bag's shell and
    wall cloth): the clutter, clothes and other objects over it. None for an anomaly of no
    pixels. In one projection a cable over a laptop and wires inside it look alike, so a judge
    can be measured apart on the anomalies nothing covers."""
    region = canvas.region(window)
    inside = mask[region]
    if not inside.any():
        return None
    dense = {m: MATERIALS[m].density for m in canvas.maps if MATERIALS[m].zeff >= COVER_ZEFF}
    others = np.zeros(inside.shape, np.float64)
    for m, density in dense.items():
        others += density * canvas.maps[m][region]
    for left_out in (window, *own):
        if left_out is None:
            continue
        at_own, at_anomaly = _overlap(canvas.region(left_out), region)
        if at_own is None:
            continue
        for m, density in dense.items():
            if m in left_out.maps:
                others[at_anomaly] -= density * left_out.maps[m][at_own]
    return float((others[inside] >= COVER_G_CM2).mean())


def _overlap(a: tuple[slice, slice], b: tuple[slice, slice]):
    """Where two regions of one canvas meet, as slices into `a` and into `b`; (None, None) when
    they do not."""
    rows = slice(max(a[0].start, b[0].start), min(a[0].stop, b[0].stop))
    cols = slice(max(a[1].start, b[1].start), min(a[1].stop, b[1].stop))
    if rows.start >= rows.stop or cols.start >= cols.stop:
        return None, None

    def local(r: tuple[slice, slice]) -> tuple[slice, slice]:
        return (
            slice(rows.start - r[0].start, rows.stop - r[0].start),
            slice(cols.start - r[1].start, cols.stop - r[1].start),
        )

    return local(a), local(b)
