"""Writes catalog.csv: the product catalog, written by hand as data blocks (python scripts/make_catalog.py)."""

import csv
import pathlib

# Each block: "## category" then lines: name|brand|price|description|tags
SOURCE = """
## 羽毛球拍
疾光 88 羽毛球拍|疾光|1199|头重型设计的3U进攻型羽毛球拍，适合后场重杀选手。|badminton racket, 3U, head-heavy, offensive, advanced
羽翔 5U 超轻羽毛球拍|羽翔|459|仅重78克的5U全碳素羽毛球拍，挥拍轻快，适合女性与青少年。|badminton racket, 5U, ultralight, carbon fiber, beginner
飞羽 S3 羽毛球拍|飞羽|329|头轻型速度拍，适合双打前场快速封网与平抽挡。|badminton racket, 4U, head-light, doubles, speed
羽翔 入门对拍羽毛球拍|羽翔|129.00|铝碳一体的双拍套装，附赠三只羽毛球与拍套，适合家庭娱乐。|badminton racket, set of two, beginner, family, aluminum
疾光 77 羽毛球拍|疾光|899|攻防兼备的4U轻量级平衡型羽毛球拍。|badminton racket, 4U, lightweight, balanced
锐羽 Max 羽毛球拍|锐羽|1580|高模量碳纤维、中杆偏硬的专业进攻拍，最高可拉30磅。|badminton racket, professional, stiff shaft, 30 lbs, offensive
飞羽 儿童羽毛球拍|飞羽|69.9|短柄轻量的儿童羽毛球拍，适合6至12岁小学生入门练习。|badminton racket, kids, short handle, beginner
疾光 66 羽毛球拍|疾光|599|中杆弹性好的4U均衡型羽毛球拍，适合中级业余玩家。|badminton racket, 4U, balanced, intermediate, flexible shaft
锐羽 X1 羽毛球拍|锐羽|699|一体成型T头的3U攻守平衡拍，出厂空拍可自选穿线磅数。|badminton racket, 3U, all-round, unstrung
鹰击 Pro 羽毛球拍|鹰击|769|加长拍身设计的4U防守型羽毛球拍，擅长接杀与反手过渡。|badminton racket, 4U, defensive, extended length
羽翔 全碳素训练羽毛球拍|羽翔|239|耐打耐高磅的全碳素训练拍，适合校队与球馆日常练习。|badminton racket, training, carbon fiber, durable

## 保温瓶
暖居 保温杯 500毫升|暖居|89|500毫升316不锈钢真空保温杯，弹盖设计可单手开启。|insulated cup, 500ml, 316 stainless steel, flip lid
恒温 保温杯 350毫升|恒温|69|350毫升小巧便携的口袋保温杯，适合放入通勤包中随身携带。|insulated cup, 350ml, compact, commute
山野 2升 户外保温壶|山野|199|2升大容量户外保温壶，附提手与杯盖，适合露营野餐。|thermos, 2L, outdoor, camping, large capacity
暖居 焖烧杯 750毫升|暖居|119|750毫升真空焖烧杯，可焖煮粥品和燕麦，保温约6小时。|food jar, 750ml, vacuum insulated, lunch
恒温瓶 1升|恒温|129|1升容量，双层真空不锈钢保温瓶，可保温12小时。|thermos, 1L, vacuum insulated, stainless steel, 12-hour
清泉 钛保温杯 450毫升|清泉|299|纯钛内胆的450毫升保温杯，无金属异味，适合泡茶与咖啡。|titanium cup, 450ml, tea, insulated, lightweight
恒温 儿童吸管保温杯|恒温|99|带吸管和背带的400毫升儿童保温杯，采用防漏锁扣设计。|kids bottle, straw, 400ml, leak-proof, insulated
山野 1.5升 不锈钢保温瓶|山野|159|1.5升容量的不锈钢户外保温瓶，保温24小时且可保冷36小时。|thermos, 1.5L, stainless steel, 24-hour, outdoor
暖居 车载保温杯 600毫升|暖居|109|杯身下窄可放入车载杯架的600毫升保温杯，杯盖带智能温度显示。|travel mug, 600ml, car cup holder, temperature display
清泉 茶水分离保温杯|清泉|139|内置茶漏的500毫升茶水分离保温杯，适合办公室泡茶。|tea infuser bottle, 500ml, insulated, office
恒温 家用保温壶 1.8升|恒温|149|1.8升玻璃内胆家用保温壶，适合办公室和家庭储存热水。|vacuum flask, 1.8L, glass liner, household

## 旅行图书
日本百名山登山指南|山径文化|98|收录日本百座名山登山路线、山屋与季节建议的登山指南。|travel book, japan, mountaineering, hiking, guidebook
云南自驾游全攻略|行者书坊|68|按路线编排的云南自驾游指南，附加油站与沿途住宿信息。|travel book, yunnan, road trip, self-driving, guide
台湾环岛骑行地图册|山径文化|75|标注坡度、补给点与住宿的台湾自行车环岛路线地图册。|travel book, taiwan, cycling, map, round-island
欧洲火车旅行手册|行者书坊|89|讲解欧洲铁路通票、订票方法与经典线路的火车旅行手册。|travel book, europe, train travel, rail pass
台湾百条必走步道全图解|山径文化|88|包含地图、交通、难易度分级的健行步道工具书。|travel book, hiking trails, taiwan, guidebook, maps
川西徒步路线精选|野行出版|59|精选川西30条高原徒步线路，含海拔剖面与高反防护建议。|travel book, sichuan, trekking, high altitude, routes
京都古寺漫步|行者书坊|72|以步行路线串联京都寺院与庭园的城市散步指南。|travel book, kyoto, temples, walking, city guide
中国国家公园旅行图鉴|野行出版|128|图文介绍中国国家公园动植物与游览路线的旅行图鉴。|travel book, national parks, china, nature, illustrated
香港郊野步道地图|山径文化|48|标注香港郊野公园远足路线与交通接驳的便携折叠地图。|travel map, hong kong, hiking trails, country parks

## 历史图书
拜占庭千年史|鉴古书局|98|讲述东罗马帝国从君士坦丁堡建城到陷落的千年通史。|history book, byzantine, eastern roman empire, medieval
罗马共和国的兴起|鉴古书局|69|讲述罗马从意大利城邦成长为地中海霸主的共和国时期历史。|history book, roman republic, ancient rome, mediterranean
大明王朝的最后十七年|青史文化|58|以崇祯朝为中心叙述明朝灭亡过程的通俗历史读物。|history book, ming dynasty, chinese history, popular history
丝绸之路上的帝国|青史文化|88|从贸易与文化交流角度讲述欧亚大陆帝国兴衰的全球史著作。|history book, silk road, global history, empires
罗马的黄昏：一部帝国衰亡史|鉴古书局|79|一本关于罗马帝国晚期社会变迁的畅销历史著作。|history book, roman empire, late antiquity, bestseller
奥斯曼帝国六百年|鉴古书局|108|梳理奥斯曼帝国从崛起到解体六百年历程的通史读物。|history book, ottoman empire, middle east, general history
宋朝的日常生活|青史文化|52|描写宋代城市饮食、节庆与市民生活的社会史读物。|history book, song dynasty, social history, daily life
第一次世界大战简史|青史文化|45|篇幅精炼、配有大量战役地图的第一次世界大战入门读本。|history book, world war i, short history, maps
古希腊城邦的黄昏|鉴古书局|66|讲述伯罗奔尼撒战争后雅典与斯巴达走向衰落的古希腊史著作。|history book, ancient greece, athens, sparta, decline

## 篮球
斯伯丁 室内比赛篮球|斯伯丁|459|采用超纤吸湿皮革的7号室内比赛用篮球，手感细腻。|basketball, size 7, indoor, game ball, microfiber
飞跃 橡胶篮球 7号|飞跃|69|耐磨橡胶材质的7号室外水泥地篮球，适合学生日常训练。|basketball, size 7, rubber, outdoor, training
跃动 6号女子篮球|跃动|159|适合女子比赛的6号PU篮球，球体偏小便于控球。|basketball, size 6, women, pu leather
斯伯丁街头篮球|斯伯丁|199|采用耐磨合成皮的室内外两用7号篮球。|basketball, size 7, indoor outdoor, composite leather, street
跃动 5号儿童篮球|跃动|89|颗粒加深防滑的5号青少年篮球，适合小学生训练。|basketball, size 5, kids, youth, grip
斯伯丁 夜光街头篮球|斯伯丁|229|球面带夜光涂层的7号街头篮球，适合夜间户外球场。|basketball, size 7, glow in the dark, outdoor, street
灌篮王 Pro 比赛篮球|灌篮王|329|比赛级7号PU篮球，深沟槽设计利于投篮时的手指发力。|basketball, size 7, game ball, deep channel, pu leather
飞跃 3号迷你篮球|飞跃|39.9|3号迷你篮球，适合幼儿玩耍与室内挂式投篮架。|basketball, size 3, mini, toddler, indoor
灌篮王 加重训练篮球|灌篮王|119|重量加倍的7号训练篮球，用于提升运球与控球力量。|basketball, weighted, training, dribbling, size 7
跃动 街头斗牛篮球|跃动|139|采用加厚橡胶外皮的7号街头斗牛篮球，耐磨耐摔。|basketball, size 7, street, thick rubber, durable

## 平板电脑
童趣派 8寸学习平板|童趣派|599|8英寸儿童学习平板，预装同步课程并带护眼模式。|kids tablet, 8 inch, learning, eye care, education
星耀 Pad 11|星耀|2299|11英寸2.5K高刷屏的安卓平板，适合影音娱乐与轻办公。|tablet, 11 inch, 2.5k, 120hz, android
星耀 Pad Pro 12.4|星耀|3999|12.4英寸OLED大屏平板，支持手写笔与键盘皮套办公。|tablet, 12.4 inch, oled, stylus, keyboard, productivity
童趣派 10寸儿童平板|童趣派|899|专为儿童设计的10英寸平板电脑，内置家长控制功能并附赠防摔保护套。|kids tablet, 10 inch, parental controls, protective case
小智 学习机 T10|小智|2699|11英寸AI学习平板，覆盖小学到高中全科辅导与作业批改。|learning tablet, students, ai tutor, 11 inch
极客 Tab S3|极客|1299|10.1英寸Wi-Fi版平板电脑，8000mAh大电池适合追剧和上网课。|tablet, 10.1 inch, wi-fi, long battery, budget
极客 Tab Mini 8|极客|999|8.7英寸小尺寸平板，单手即可握持，适合阅读与手游。|tablet, 8.7 inch, compact, mini, gaming
墨阅 10.3寸墨水屏平板|墨阅|2199|10.3英寸电子墨水屏平板，支持手写笔记与PDF批注。|e-ink tablet, 10.3 inch, handwriting, notes, pdf
星耀 Pad 11 4G版|星耀|2599|支持插卡4G上网与通话的11英寸平板，出行无需连接Wi-Fi。|tablet, 11 inch, 4g lte, sim card, travel
宝贝熊 7寸儿童平板|宝贝熊|399|7英寸入门儿童平板，内置动画绘本与使用时长管理。|kids tablet, 7 inch, budget, picture books, screen time
极客 Tab 12 Pro|极客|2899|12.7英寸144Hz高刷游戏平板，搭载旗舰芯片与四扬声器。|tablet, 12.7 inch, 144hz, gaming, quad speakers

## 自行车头盔
气流 通勤自行车头盔|气流|299|带USB充电尾灯的城市通勤自行车头盔，头围可旋钮调节。|bike helmet, commuter, rear light, adjustable
骑客 MIPS 山地车头盔|骑客|599|带MIPS防旋转系统和可拆遮阳帽檐的山地车头盔。|bike helmet, mtb, mips, visor
骑客 速降全盔|骑客|1199|下巴护罩一体的速降全盔，适合山地速降与林道骑行。|full face helmet, downhill, mtb, chin guard
风行 儿童自行车头盔|风行|129|卡通图案的儿童骑行头盔，适合平衡车与滑板车使用。|kids helmet, balance bike, scooter, cartoon
气流 Pro 自行车头盔|气流|699|轻量化、高通风性的专业自行车头盔。|bike helmet, road cycling, lightweight, ventilation, professional
风行 气动公路头盔|风行|899|经风洞优化的气动公路车头盔，适合竞速和铁人三项。|bike helmet, aero, road racing, triathlon
速客 智能骑行头盔|速客|499|内置蓝牙耳机与LED转向灯的智能骑行头盔。|smart helmet, bluetooth, turn signal, commuter
气流 Lite 自行车头盔|气流|399|一体成型的入门级公路骑行头盔，重量约260克。|bike helmet, entry level, road, lightweight
骑客 折叠自行车头盔|骑客|359|可压扁折叠收纳的城市骑行头盔，适合共享单车通勤族。|bike helmet, foldable, urban, portable
风行 女款骑行头盔|风行|269|后部留有马尾开口的女款骑行头盔，配色柔和。|bike helmet, women, ponytail, commuter

## 网络摄像头
清视 C1 电脑摄像头|清视|159|免驱即插即用的720p入门电脑摄像头，适合学生上网课。|webcam, 720p, plug and play, online class
清视 4K 直播摄像头|清视|1299|支持4K 30fps、自动对焦与补光灯的直播摄像头。|webcam, 4k, streaming, autofocus, ring light
视界 360 全景会议摄像头|视界|3299|集成摄像头、麦克风与扬声器的360度会议室全景一体机。|conference camera, 360 degree, speakerphone, meeting room
清视 Pro 会议摄像头|清视|699|支持1080p 60fps和120度广角的视频会议摄像头，内置降噪麦克风。|webcam, 1080p, 60fps, wide angle, noise cancelling mic
视界 PTZ 云台会议摄像头|视界|2599|支持12倍光学变焦与遥控云台的大中型会议室摄像头。|ptz camera, 12x zoom, conference room, remote control
远见 2K 网络摄像头|远见|299|2K分辨率、带物理隐私遮挡盖的居家办公电脑摄像头。|webcam, 2k, privacy cover, home office
远见 AI 追踪摄像头|远见|499|可AI人像自动追踪取景的1080p摄像头，适合讲课录制。|webcam, ai tracking, 1080p, teaching
清视 Pro 2 会议摄像头|清视|899|支持2K 30fps和双麦克风阵列的商务会议摄像头，带隐私快门。|webcam, 2k, dual microphones, business, privacy shutter
视界 USB-C 便携摄像头|视界|229|USB-C直连笔记本和平板的折叠便携摄像头，适合出差使用。|webcam, usb-c, portable, foldable, travel
远见 红外人脸识别摄像头|远见|399|支持Windows Hello红外人脸解锁的1080p电脑摄像头，适合商务笔记本外接。|webcam, infrared, windows hello, face unlock, 1080p

## 无线路由器
网速 AX73 无线路由器|网速|599|AX5400级别六天线Wi-Fi 6路由器，适合多设备大户型。|router, wi-fi 6, ax5400, 6 antennas, large home
网速 Mesh 分布式路由器 两只装|网速|899|两只装Wi-Fi 6 Mesh路由器，无缝漫游覆盖别墅和复式住宅。|mesh router, wi-fi 6, whole home, two pack
飞讯 AX3000 无线路由器|飞讯|329|AX3000双频Wi-Fi 6路由器，带2.5G网口与游戏加速功能。|router, wi-fi 6, ax3000, 2.5g port, gaming
网速 4G 随身Wi-Fi路由器|网速|199|插SIM卡即可上网的便携4G随身路由器，最多连接10台设备。|4g router, mobile hotspot, portable, sim card
飞讯 BE7200 Wi-Fi 7 路由器|飞讯|999|BE7200级别Wi-Fi 7三频路由器，支持320MHz超宽频宽，适合万兆光纤家庭。|router, wi-fi 7, be7200, tri-band
网速 AX55 无线路由器|网速|399|AX3000级别的Wi-Fi 6无线路由器，适合中小坪数家庭。|router, wi-fi 6, ax3000, dual band, home
星链 AX1800 无线路由器|星链|199|入门级AX1800 Wi-Fi 6路由器，适合小户型与出租屋。|router, wi-fi 6, ax1800, budget, small apartment
星链 AC1200 双频路由器|星链|99|适合两居室的AC1200双频千兆路由器，设置简单。|router, ac1200, dual band, gigabit, budget
飞讯 AX6000 电竞路由器|飞讯|1299|带RGB灯效和游戏专属频段的AX6000电竞路由器。|gaming router, ax6000, wi-fi 6, rgb
星链 AX3000 Mesh 路由器|星链|459|支持一键组网的AX3000 Mesh路由器，单只可覆盖三居室。|mesh router, ax3000, wi-fi 6, easy setup
网速 AX23 无线路由器|网速|249|AX1800双频Wi-Fi 6路由器，适合一居室与学生宿舍。|router, wi-fi 6, ax1800, dorm, small home

## 蓝牙耳机
力动 Air 真无线耳机|力动|259|半入耳式真无线蓝牙耳机，单次续航6小时，适合日常通勤。|true wireless, earbuds, semi in-ear, commute
声浪 骨传导运动耳机|声浪|599|开放式骨传导运动耳机，跑步时可听见环境声，IP67防水。|bone conduction, open ear, running, ip67
声浪 游泳耳机 32GB|声浪|799|内置32GB存储可离线播放的IPX8级游泳骨传导耳机。|swimming, bone conduction, ipx8, mp3, 32gb
静听 Pro 降噪耳机|静听|999|支持主动降噪和空间音频的入耳式真无线耳机。|anc, noise cancelling, true wireless, spatial audio
力动 Pro 无线运动耳机|力动|399|IPX7级防水，超长续航的运动无线蓝牙耳机，采用耳挂式设计，运动时不易脱落。|sports earphones, bluetooth, ipx7, ear hook, long battery
静听 头戴式降噪耳机|静听|1299|40毫米动圈单元的头戴式主动降噪耳机，续航达50小时。|headphones, over-ear, anc, 50-hour battery
悦耳 颈挂式蓝牙耳机|悦耳|129|磁吸颈挂式蓝牙耳机，适合健身房和通勤佩戴。|neckband, bluetooth, magnetic, gym
悦耳 入门真无线耳机|悦耳|79|百元以内的入门真无线耳机，带触控操作和充电仓。|true wireless, budget, touch control, charging case
力动 夹耳式运动耳机|力动|329|耳夹式开放佩戴的运动耳机，长跑时没有入耳压迫感。|clip-on, open ear, sports, running
声浪 耳挂式运动耳机|声浪|279|IPX5防汗的耳挂式蓝牙运动耳机，适合健身与骑行。|sports earphones, ear hook, ipx5, sweatproof
静听 游戏低延迟耳机|静听|349|带45毫秒低延迟游戏模式的真无线耳机，适合手游玩家。|gaming earbuds, low latency, true wireless

## 跑鞋
野径大师 X2 越野跑鞋|野径大师|599|入门级越野跑鞋，采用5毫米大齿底纹，适合郊野山路。|trail running shoes, entry level, lugged outsole
野径大师 X6 越野跑鞋|野径大师|1099|内置碳板的长距离越野竞赛跑鞋，适合百公里赛事。|trail running shoes, carbon plate, ultra marathon, racing
疾风 Pro 碳板竞速跑鞋|疾风|1299|全掌碳板与超临界发泡中底的马拉松竞速跑鞋。|running shoes, carbon plate, marathon, racing
疾风 缓震慢跑鞋|疾风|499|厚底缓震的日常慢跑鞋，适合体重较大的跑者。|running shoes, cushioned, daily training, jogging
野径大师 X4 越野跑鞋|野径大师|899|专业级越野跑鞋，具有出色的抓地力和Gore-Tex防水性能。|trail running shoes, gore-tex, waterproof, grip, professional
步云 轻跑鞋|步云|299|网面透气的轻量跑鞋，单只仅重200克，适合健身房训练。|running shoes, lightweight, breathable, gym
步云 宽楦跑鞋|步云|399|宽楦头设计的稳定支撑跑鞋，适合扁平足与宽脚跑者。|running shoes, wide fit, stability, flat feet
山影 防水越野跑鞋|山影|699|采用防水透气膜与Vibram大底的越野跑鞋，适合雨天山径。|trail running shoes, waterproof, vibram, rain
山影 X4 越野跑鞋|山影|549|轻量化低帮越野跑鞋，鞋头加固防撞，适合碎石路面。|trail running shoes, low cut, toe guard, lightweight
疾风 儿童跑鞋|疾风|259|魔术贴设计的儿童运动跑鞋，橡胶鞋底防滑耐磨。|kids shoes, running, velcro, non-slip
步云 女款缓震跑鞋|步云|459|针对女性足型设计的缓震跑鞋，后跟包裹稳定。|running shoes, women, cushioned, heel support

## 机械键盘
机械师 K5 机械键盘|机械师|299|采用红轴的87键白光紧凑机械键盘，适合小桌面。|mechanical keyboard, red switch, 87 keys, tkl, white backlight
机械师 K8 机械键盘|机械师|699|支持蓝牙、2.4G与有线三模连接的98键热插拔机械键盘。|mechanical keyboard, tri-mode, hot-swappable, 98 keys, wireless
雷霆 K8 机械键盘|雷霆|399|采用Gateron茶轴的87键有线游戏机械键盘，段落感轻柔适合兼顾打字。|mechanical keyboard, gateron brown, 87 keys, gaming
机械师 K7 机械键盘|机械师|459|采用Gateron青轴的104键RGB机械键盘。|mechanical keyboard, gateron blue, 104 keys, rgb
雷霆 G104 机械键盘|雷霆|259|104键青轴全尺寸机械键盘，配备独立多媒体音量旋钮。|mechanical keyboard, blue switch, 104 keys, full size, media knob
键匠 75% 客制化机械键盘|键匠|899|铝合金外壳、Gasket结构的75%配列客制化机械键盘。|mechanical keyboard, 75%, aluminum, gasket, custom
键匠 60% 迷你机械键盘|键匠|349|61键迷你配列机械键盘，支持蓝牙连接平板与手机。|mechanical keyboard, 60%, 61 keys, bluetooth, portable
键匠 磁轴电竞键盘|键匠|799|触发键程可调的磁轴电竞键盘，支持快速触发功能。|mechanical keyboard, magnetic switch, rapid trigger, esports
雷霆 静音红轴办公键盘|雷霆|229|采用静音红轴的104键办公机械键盘，适合开放式办公室。|mechanical keyboard, silent red, 104 keys, office
墨客 复古打字机键盘|墨客|369|圆形复古键帽的打字机风格蓝牙机械键盘。|mechanical keyboard, retro, typewriter, round keycaps, bluetooth
机械师 K9 Pro 机械键盘|机械师|999|带OLED小屏和音量旋钮的108键旗舰机械键盘，采用自研线性轴。|mechanical keyboard, 108 keys, oled screen, linear switch, flagship

## 车载手机支架
车友 磁吸车载手机支架|车友|79|强磁吸附的出风口车载支架，单手即可取放手机。|car phone mount, magnetic, air vent, one-hand
车友 吸盘式车载手机支架|车友|69|适合中控台和挡风玻璃的吸盘式伸缩车载手机支架。|car phone mount, suction cup, dashboard, windshield
驰行 无线充电车载支架|驰行|189|15W无线快充、红外感应自动夹紧的车载手机支架。|car phone mount, wireless charging, 15w, auto clamp, infrared
重力感应车载手机支架|车友|59|采用重力联动设计的冷气出风口夹式车载手机支架。|car phone mount, gravity, air vent, clip
驰行 磁吸无线充车载支架|驰行|229|兼容MagSafe的磁吸无线充车载支架，背部带散热风扇。|car phone mount, magsafe, wireless charging, cooling fan
途安 CD口车载手机支架|途安|49|卡入CD槽安装的车载手机支架，适合圆形出风口的车型。|car phone mount, cd slot, round vent
途安 后视镜车载手机支架|途安|59|夹在后视镜上的车载支架，看导航时视线无需低头。|car phone mount, rearview mirror, navigation
途安 重力联动车载支架|途安|39.9|入门级重力联动出风口车载支架，兼容4.7至6.7英寸手机。|car phone mount, gravity, air vent, budget
驰行 头枕式平板手机车载支架|驰行|129|安装在后排头枕上的平板与手机支架，可360度旋转。|car mount, headrest, tablet, rear seat, 360 rotation
车友 仪表台粘贴式手机支架|车友|35|用3M胶粘贴在仪表台上的小巧车载手机支架。|car phone mount, dashboard, adhesive, compact

## 钢笔
经典作家 F-3 型钢笔|经典作家|298|适合商务书写的树脂笔杆钢笔，采用镀金钢尖并附礼盒。|fountain pen, business, resin, gold plated nib, gift box
经典作家 14K 金尖钢笔|经典作家|980|14K金笔尖配活塞上墨的高端钢笔，书写富有弹性。|fountain pen, 14k gold nib, piston filler, premium
墨韵 学生练字钢笔|墨韵|29.9|EF细尖的学生练字钢笔，笔握处有防滑指位。|fountain pen, student, ef nib, calligraphy practice
经典作家 F-1 型钢笔|经典作家|128|笔触顺滑的入门级钢笔，支持吸墨器与卡式墨水。|fountain pen, entry level, converter, cartridge, smooth
墨韵 美工弯尖钢笔|墨韵|39|弯头笔尖可粗细两用的美工钢笔，适合硬笔书法与绘画。|fountain pen, bent nib, calligraphy, art
书香 透明示范钢笔|书香|168|全透明笔身可见墨水余量的大墨仓钢笔。|fountain pen, demonstrator, transparent, large ink capacity
书香 黄铜钢笔|书香|259|纯黄铜笔杆会随使用自然氧化的复古风格钢笔。|fountain pen, brass, vintage, heavy
匠心 漆艺钢笔|匠心|1680|手工大漆笔杆搭配18K金尖的收藏级钢笔。|fountain pen, urushi lacquer, 18k gold nib, collector
墨韵 便携短款钢笔|墨韵|89|合盖长度仅10厘米的口袋钢笔，使用卡式墨水。|fountain pen, pocket, compact, cartridge
书香 钢笔礼盒套装|书香|199|含钢笔、吸墨器与两瓶彩色墨水的钢笔礼盒套装。|fountain pen, gift set, converter, ink bottles

## 台灯
爱眼 学生LED台灯|爱眼|199|国AA级照度的学生书桌LED台灯，带久坐定时提醒。|desk lamp, led, student, timer
明亮 屏幕挂灯|明亮|229|挂在显示器顶部的非对称光源屏幕挂灯，不反光也不占桌面。|monitor light bar, asymmetric, screen lamp
明亮 折叠充电台灯|明亮|89|内置电池可折叠的便携LED台灯，适合宿舍与露营。|desk lamp, rechargeable, foldable, portable, dorm
爱眼 Pro LED台灯|爱眼|499|亮度色温可调、具非对称光源设计的护眼LED台灯。|desk lamp, led, eye care, asymmetric light, adjustable
光宇 全光谱护眼台灯|光宇|699|Ra98全光谱、照射面积大的护眼台灯，适合长时间读写。|desk lamp, full spectrum, ra98, eye care
光宇 智能台灯|光宇|349|支持语音控制和手机App调光的智能LED台灯。|desk lamp, smart, voice control, app
木语 实木台灯|木语|259|胡桃木灯座配布艺灯罩的卧室床头台灯。|table lamp, walnut, bedside, fabric shade
爱眼 夹子台灯|爱眼|129|可夹在床头或书架上的软管夹子LED台灯。|clip lamp, led, flexible, bedside
光宇 无线充电台灯|光宇|279|底座带15W无线充电功能的办公LED台灯，可边照明边给手机充电。|desk lamp, wireless charging, office
明亮 Pro 长臂台灯|明亮|399|长臂可调的绘图台灯，照射范围可覆盖1.2米宽桌面。|desk lamp, swing arm, drafting, wide coverage

## 帐篷
峰景 单人登山帐篷|峰景|699|1.1公斤单人双层登山帐篷，适合轻装徒步。|tent, 1 person, backpacking, ultralight, double wall
峰景 四季高山帐篷|峰景|2199|可抗强风与积雪的双人四季高山帐篷。|tent, 4 season, alpine, 2 person, snow
野营家 自动速开帐篷|野营家|299|弹簧自动速开的3至4人公园露营帐篷。|tent, pop-up, 4 person, family, park
峰景 双人登山帐篷|峰景|899|1.8公斤轻量化设计的两人登山帐篷。|tent, 2 person, backpacking, lightweight, mountaineering
野营家 六人家庭帐篷|野营家|899|两室一厅结构的六人家庭露营帐篷，自带宽敞前庭。|tent, 6 person, family camping, vestibule
山野 隧道帐篷|山野|1299|大空间一体化隧道帐，前厅可放桌椅，适合精致露营。|tunnel tent, glamping, large, family
山野 两人野营帐篷|山野|259|防雨双层的入门两人野营帐篷，适合营地露营。|tent, 2 person, entry level, camping, waterproof
云栖 车顶帐篷|云栖|5999|硬壳一键展开的SUV车顶帐篷，可供两人睡卧。|rooftop tent, suv, hard shell, 2 person
云栖 儿童游戏帐篷|云栖|159|室内使用的印第安尖顶风格儿童游戏帐篷。|kids play tent, indoor, teepee
野营家 沙滩遮阳帐篷|野营家|129|UPF50+防晒的折叠沙滩遮阳帐篷，可用沙袋固定，适合海边亲子游玩。|beach tent, sun shelter, upf50, foldable

## 鼠标
机械师 M5 游戏鼠标|机械师|199|26000 DPI传感器的轻量化有线游戏鼠标，重量仅59克。|gaming mouse, 26000 dpi, lightweight, wired
机械师 M3 无线鼠标|机械师|129|2.4G与蓝牙双模连接的办公无线静音鼠标。|wireless mouse, dual mode, silent, office
灵动 人体工学垂直鼠标|灵动|159|57度垂直握姿的人体工学鼠标，减轻手腕疲劳。|vertical mouse, ergonomic, wrist
灵动 便携蓝牙鼠标|灵动|79|超薄可折叠的便携蓝牙鼠标，适合带笔记本出差。|bluetooth mouse, portable, slim, travel
雷霆 Pro 电竞鼠标|雷霆|399|支持4K回报率的无线电竞鼠标，续航可达90小时。|gaming mouse, wireless, 4k polling, esports
键匠 轨迹球鼠标|键匠|299|拇指操控的轨迹球鼠标，无需移动机身即可操控光标。|trackball, ergonomic, thumb
灵动 儿童小手鼠标|灵动|39|小尺寸卡通造型的儿童有线鼠标，适合小学生上机课。|kids mouse, small, wired, cartoon
雷霆 MMO 多键游戏鼠标|雷霆|259|侧面配有12个可编程按键的MMO游戏鼠标。|gaming mouse, mmo, 12 buttons, programmable

## 显示器
清视 27寸 4K 显示器|清视|1999|27英寸4K IPS设计师显示器，支持USB-C一线连接并为笔记本65W反向充电。|monitor, 27 inch, 4k, ips, usb-c
清视 24寸 办公显示器|清视|699|24英寸1080p低蓝光办公显示器，支持旋转升降。|monitor, 24 inch, 1080p, low blue light, pivot
星耀 34寸 带鱼屏显示器|星耀|2799|34英寸21:9曲面带鱼屏，适合多窗口剪辑与赛车游戏。|monitor, 34 inch, ultrawide, curved, 21:9
雷霆 27寸 240Hz 电竞显示器|雷霆|2299|27英寸2K 240Hz电竞显示器，响应时间1毫秒，适合射击类竞技游戏。|gaming monitor, 27 inch, 240hz, 2k, 1ms
爱眼 27寸 护眼显示器|爱眼|1399|通过无频闪与低蓝光认证的27英寸2K护眼显示器。|monitor, eye care, flicker-free, 27 inch, 2k
极客 15.6寸 便携显示器|极客|799|15.6英寸便携显示器，单线即可连接手机、游戏机与笔记本。|portable monitor, 15.6 inch, usb-c, travel
星耀 32寸 OLED 显示器|星耀|6999|32英寸4K OLED专业显示器，覆盖99% DCI-P3色域，适合影视调色与后期。|monitor, oled, 4k, 32 inch, color accurate
视界 22寸 入门显示器|视界|499|21.5英寸入门级VA屏显示器，适合家用和收银台。|monitor, 21.5 inch, va, budget

## 智能手表
童趣派 儿童智能手表|童趣派|399|支持4G视频通话和精准定位的儿童电话手表。|kids smartwatch, 4g, video call, gps
力动 运动智能手表|力动|899|双频GPS与血氧监测的运动智能手表，支持上百种运动模式。|smartwatch, sports, dual-band gps, spo2
星耀 Watch 4|星耀|1499|1.43英寸AMOLED屏的智能手表，支持eSIM独立通话，不带手机也能接电话。|smartwatch, amoled, esim, calls
星耀 手环 8|星耀|249|轻薄智能手环，支持心率与睡眠监测，续航14天。|fitness band, heart rate, sleep tracking, 14-day battery
野径大师 户外越野手表|野径大师|2599|太阳能充电的户外越野手表，带离线地图和气压高度计。|outdoor watch, solar, offline maps, barometer, trail
极客 Watch S3|极客|599|方形屏幕的入门智能手表，支持蓝牙通话与消息提醒。|smartwatch, bluetooth calling, notifications, budget
童趣派 学生定位手表|童趣派|199|无娱乐功能的学生定位手表，支持上课禁用与电子围栏。|kids watch, location, class mode, geofence
康护 老人健康手表|康护|699|支持心电、跌倒检测与一键SOS求救的老人健康手表。|health watch, ecg, fall detection, sos, elderly
力动 Pro 铁三手表|力动|1999|支持游泳划水识别和铁人三项模式的专业运动手表。|sports watch, triathlon, swimming, pro

## 充电宝
电能 10000mAh 充电宝|电能|99|10000mAh轻薄充电宝，支持22.5W快充，可随身放入口袋。|power bank, 10000mah, 22.5w, slim
电能 20000mAh 充电宝|电能|149|20000mAh大容量充电宝，可为手机充电约4次，适合长途旅行使用。|power bank, 20000mah, high capacity
电能 磁吸无线充电宝|电能|179|5000mAh磁吸无线充电宝，吸附在手机背面可边用边充。|power bank, magnetic, wireless, 5000mah
飞充 65W 笔记本充电宝|飞充|299|20000mAh容量的65W USB-C充电宝，可为笔记本电脑充电。|power bank, 65w, usb-c pd, laptop
飞充 自带线迷你充电宝|飞充|69|自带Lightning与USB-C双线的5000mAh迷你充电宝，出门无需再带数据线。|power bank, mini, built-in cable, 5000mah
山野 300W 户外移动电源|山野|1599|容量768Wh的300W户外移动电源，支持220V交流输出。|portable power station, 300w, ac outlet, camping
闪电 Pro 数显充电宝|闪电|199|带数显屏实时显示电量的100W快充充电宝，容量25000mAh。|power bank, 100w, 25000mah, display
闪电 太阳能充电宝|闪电|129|带太阳能板与指南针的三防户外充电宝。|power bank, solar, rugged, outdoor

## 电动牙刷
清风 Pro 电动牙刷|清风|399|声波震动每分钟4万次、支持压力感应的电动牙刷。|electric toothbrush, sonic, pressure sensor, pro
清风 入门电动牙刷|清风|129|三档清洁模式的入门声波电动牙刷，一次充电续航60天。|electric toothbrush, sonic, entry level, 60-day battery
洁齿 儿童电动牙刷|洁齿|99|软毛小刷头的儿童电动牙刷，带2分钟刷牙提示灯。|kids electric toothbrush, soft bristles, timer
洁齿 旋转式电动牙刷|洁齿|299|圆形刷头旋转摆动的电动牙刷，擅长清洁牙缝和牙龈线。|electric toothbrush, oscillating, round head
白朗 智能电动牙刷|白朗|599|通过App记录刷牙盲区的智能电动牙刷，附旅行收纳盒。|electric toothbrush, smart, app, travel case
白朗 便携电动牙刷|白朗|159|笔形便携电动牙刷，采用USB-C充电，适合出差携带。|electric toothbrush, portable, usb-c, travel
洁齿 正畸电动牙刷|洁齿|259|配有正畸专用刷头的电动牙刷，适合佩戴牙套人群。|electric toothbrush, orthodontic, braces
清风 情侣电动牙刷套装|清风|459|两支装电动牙刷套装，共用一个感应充电座。|electric toothbrush, two pack, couple, charging base

## 咖啡机
醇香 半自动意式咖啡机|醇香|1899|20bar泵压、带蒸汽奶泡棒的半自动意式咖啡机。|espresso machine, 20 bar, steam wand, semi-automatic
醇香 全自动咖啡机|醇香|4599|一键研磨萃取的全自动咖啡机，带自动奶泡系统。|automatic coffee machine, bean to cup, milk frother
醇香 胶囊咖啡机|醇香|799|兼容多品牌胶囊的小型胶囊咖啡机，约30秒即可出杯。|capsule coffee machine, compact, fast
慢时光 美式滴滤咖啡机|慢时光|299|1.2升容量、带保温底盘的美式滴滤咖啡机。|drip coffee maker, 1.2l, keep warm, american
慢时光 自动手冲咖啡机|慢时光|1299|模拟螺旋手冲注水路径的自动手冲咖啡机。|pour-over coffee maker, automatic, specialty
晨曦 便携咖啡机|晨曦|349|USB-C充电的便携意式咖啡机，可用于露营和车载。|portable espresso, usb-c, camping, travel
晨曦 研磨一体咖啡机|晨曦|699|带锥形磨豆器的研磨一体美式咖啡机。|coffee maker, built-in grinder, drip
醇香 Pro 双锅炉咖啡机|醇香|8999|双锅炉PID温控的商用级意式咖啡机，适合小型咖啡馆。|espresso machine, dual boiler, pid, commercial, pro

## 空气净化器
清风 S3 空气净化器|清风|1299|CADR值500的家用空气净化器，高效去除甲醛与PM2.5。|air purifier, cadr 500, formaldehyde, pm2.5
净界 卧室空气净化器|净界|599|睡眠模式噪音低至22分贝的小型卧室空气净化器。|air purifier, bedroom, quiet, compact
净界 宠物空气净化器|净界|1599|针对宠物毛发与异味设计的空气净化器，带可水洗预过滤网。|air purifier, pet hair, odor, pre-filter
净界 Pro 大空间空气净化器|净界|3299|CADR值800、适用于80平方米大客厅的空气净化器。|air purifier, large room, cadr 800, pro
呼吸 车载空气净化器|呼吸|199|可放入杯架的车载空气净化器，采用USB-C供电。|car air purifier, cup holder, usb-c
呼吸 加湿净化一体机|呼吸|1899|集加湿与净化于一体的空气净化器，适合北方干燥的冬季。|air purifier, humidifier, 2-in-1, winter
呼吸 桌面空气净化器|呼吸|299|桌面小型空气净化器，适合办公室工位使用。|air purifier, desktop, office, small
清风 母婴空气净化器|清风|1699|采用H13滤网与紫外线杀菌的母婴房空气净化器。|air purifier, h13 hepa, uv, baby

## 双肩包
行者 商务双肩包|行者|399|可放16英寸笔记本的防泼水商务双肩包。|backpack, business, 16 inch laptop, water resistant
行者 40升登山双肩包|行者|499|40升背负系统透气的登山双肩包，附带防雨罩。|hiking backpack, 40l, rain cover, ventilated
峰景 28升轻量登山包|峰景|359|重量仅750克的28升轻量快攀登山包，适合一日往返的登山路线。|hiking backpack, 28l, ultralight, fast hiking
学霸 儿童护脊书包|学霸|299|减负护脊设计的小学生书包，两侧带反光条。|school backpack, kids, spine protection, reflective
学霸 中学生双肩包|学霸|199|大容量多隔层的中学生双肩书包，可放A4课本与水杯。|school backpack, teen, large capacity, compartments
城野 防盗双肩包|城野|259|背面隐藏拉链并带USB充电口的防盗旅行双肩包。|backpack, anti-theft, usb port, travel
城野 相机双肩包|城野|459|可容纳一机三镜的摄影双肩包，侧面开口快速取机。|camera backpack, photography, side access
城野 卷顶通勤包|城野|329|防水卷顶设计的骑行通勤双肩包，容量25升。|backpack, roll-top, waterproof, cycling, 25l

## 瑜伽垫
力动 6mm TPE 瑜伽垫|力动|99|6毫米厚的双面防滑TPE瑜伽垫，附赠收纳绑带。|yoga mat, tpe, 6mm, non-slip
柔韧 天然橡胶瑜伽垫|柔韧|399|天然橡胶底加PU表层的专业瑜伽垫，出汗也不打滑。|yoga mat, natural rubber, pu, professional, grip
柔韧 加宽加厚健身垫|柔韧|159|宽80厘米、厚10毫米的健身垫，适合仰卧起坐与拉伸。|exercise mat, extra wide, 10mm, fitness
柔韧 折叠旅行瑜伽垫|柔韧|139|厚度1.5毫米的超薄可折叠旅行瑜伽垫，可放入行李箱。|yoga mat, travel, foldable, thin
禅意 体位线瑜伽垫|禅意|129|印有体位辅助线的瑜伽垫，帮助初学者摆正姿势。|yoga mat, alignment lines, beginner
禅意 软木瑜伽垫|禅意|289|天然软木表面的瑜伽垫，吸汗不滑，适合热瑜伽。|yoga mat, cork, hot yoga, natural
禅意 儿童瑜伽垫|禅意|79|卡通图案的短款儿童瑜伽垫，适合幼儿舞蹈课。|yoga mat, kids, cartoon, dance
力动 静音跳绳垫|力动|119|减震隔音的跳绳专用垫，适合楼房室内跳绳。|jump rope mat, shock absorbing, quiet, indoor

## 蓝牙音箱
声浪 户外防水音箱|声浪|399|IP67防水防尘的便携户外蓝牙音箱，续航24小时。|bluetooth speaker, ip67, outdoor, 24-hour
声浪 派对音箱|声浪|1299|带灯光效果与K歌麦克风接口的大功率派对音箱。|party speaker, karaoke, lights, high power
悦耳 迷你蓝牙音箱|悦耳|69|掌心大小的迷你蓝牙音箱，附带挂绳可挂在背包上。|bluetooth speaker, mini, portable, lanyard
悦耳 复古收音机音箱|悦耳|199|带FM收音功能的复古木纹蓝牙音箱，适合放在床头或书房摆件。|bluetooth speaker, retro, fm radio, wood
静听 Hi-Fi 书架音箱|静听|1699|支持LDAC解码的Hi-Fi有源书架音箱，一对两只。|bookshelf speakers, hi-fi, ldac, active, pair
静听 智能音箱|静听|299|支持语音助手与智能家居控制的智能音箱。|smart speaker, voice assistant, smart home
力动 骑行音箱|力动|159|可绑在自行车把上的防水骑行蓝牙音箱。|bluetooth speaker, cycling, handlebar, waterproof
声浪 淋浴音箱|声浪|99|吸盘固定在浴室墙面的防水蓝牙小音箱。|shower speaker, suction cup, waterproof, bathroom

## 电饭煲
厨艺 4升 IH 电饭煲|厨艺|899|4升IH电磁立体加热电饭煲，米饭受热均匀，适合3至6人家庭。|rice cooker, ih, 4l, family
厨艺 1.6升 迷你电饭煲|厨艺|199|1.6升迷你电饭煲，适合1至2人小家庭或单身公寓。|rice cooker, mini, 1.6l, single
厨艺 低糖电饭煲|厨艺|599|采用米汤分离工艺的3升低糖电饭煲，适合控糖人群。|rice cooker, low sugar, 3l, health
米香 5升 压力电饭煲|米香|1299|5升高压IH电饭煲，既能煮饭也能快速炖汤。|pressure rice cooker, ih, 5l, stew
米香 智能预约电饭煲|米香|299|支持24小时预约与App控制的4升智能电饭煲。|rice cooker, smart, app, timer, 4l
米香 陶瓷内胆电饭煲|米香|459|采用陶瓷釉内胆的3升电饭煲，内胆不含涂层。|rice cooker, ceramic, coating-free, 3l
暖居 宿舍小电锅|暖居|89|1.2升多功能小电锅，可煮饭、煮面与涮火锅。|mini cooker, dorm, 1.2l, multi-function
厨艺 8升商用电饭煲|厨艺|699|8升大容量电饭煲，适合食堂与餐馆使用。|rice cooker, 8l, commercial, canteen

## 吹风机
气流 高速吹风机|气流|599|11万转高速马达的负离子吹风机，约3分钟即可吹干短发。|hair dryer, high speed, negative ion, fast drying
气流 Pro 吹风机|气流|1299|智能温控的专业高速吹风机，附带五款造型风嘴。|hair dryer, professional, temperature control, attachments
秀发 折叠旅行吹风机|秀发|99|手柄可折叠的1200W旅行吹风机，支持双电压。|hair dryer, foldable, travel, dual voltage
秀发 沙龙专业吹风机|秀发|399|2200W大功率的理发店沙龙专用吹风机，长时间使用不易过热。|hair dryer, salon, 2200w, high power
秀发 儿童低温吹风机|秀发|169|低温柔风的儿童吹风机，外壳防烫不伤头皮。|hair dryer, kids, low heat, safe
丝语 卷发吹风梳|丝语|299|吹风与卷发造型二合一的热风梳，附带圆筒梳与直发梳两种梳头。|hot air brush, curling, styling
丝语 宠物吹水机|丝语|399|大风量宠物吹水机，适合中大型犬洗澡后吹干毛发。|pet dryer, dogs, high airflow
丝语 静音吹风机|丝语|259|运行噪音低于60分贝的静音吹风机，适合清晨使用。|hair dryer, quiet, low noise

## 手机
星耀 X5 手机|星耀|2999|6.7英寸OLED屏、5000mAh电池的5G智能手机，支持67W有线快充。|smartphone, 5g, oled, 5000mah
星耀 X5 Pro 手机|星耀|4599|配备1英寸大底主摄与潜望长焦镜头的旗舰影像手机。|smartphone, flagship, camera, periscope, 5g
极客 S3 手机|极客|1299|搭载120Hz高刷屏的千元性价比5G手机，适合学生和老人备用机。|smartphone, budget, 120hz, 5g
极客 Fold 折叠屏手机|极客|7999|内屏7.8英寸的横向折叠屏手机，展开即是小平板。|foldable phone, 7.8 inch, flagship
康护 老人手机|康护|299|大字体、大音量并带一键呼救的老人手机。|senior phone, large font, sos, loud
雷霆 游戏手机 8|雷霆|3599|带肩键与主动散热风扇的电竞游戏手机。|gaming phone, shoulder triggers, cooling fan
小智 学生手机|小智|899|家长可管控应用使用时长的学生专用4G手机。|student phone, parental control, 4g
星耀 Mini 手机|星耀|2499|6.1英寸小屏旗舰手机，单手操作更方便。|smartphone, compact, 6.1 inch, flagship
野径大师 三防手机|野径大师|1999|IP68防水防摔、22000mAh超大电池的户外三防手机。|rugged phone, ip68, huge battery, outdoor

## 笔记本电脑
星耀 Book 14|星耀|4999|14英寸2.8K屏的轻薄笔记本，整机重量1.3公斤。|laptop, 14 inch, 2.8k, ultrabook, lightweight
星耀 Book 16 Pro|星耀|8999|16英寸3K高刷屏搭配独立显卡的创作本。|laptop, 16 inch, creator, dedicated gpu
雷霆 G16 游戏本|雷霆|8499|配备RTX 4070显卡和240Hz屏幕的16英寸游戏笔记本。|gaming laptop, rtx 4070, 240hz, 16 inch
机械师 T15 游戏本|机械师|5999|15.6英寸144Hz屏的入门游戏笔记本，键盘带RGB背光。|gaming laptop, 15.6 inch, 144hz, rgb keyboard
极客 Book Air 13|极客|3299|13.3英寸无风扇静音轻薄本，适合学生上课与文档处理。|laptop, 13.3 inch, fanless, student
极客 二合一平板笔记本|极客|4299|键盘可拆卸的12.3英寸二合一笔记本，支持触控笔。|2-in-1 laptop, detachable, touchscreen, stylus
商旅 E14 商务笔记本|商旅|4599|通过军规测试的14英寸商务笔记本，带指纹与红外人脸识别。|business laptop, 14 inch, durable, fingerprint
商旅 Pro 移动工作站|商旅|12999|配备专业显卡和64GB内存的移动工作站，适合三维设计。|mobile workstation, 64gb ram, professional gpu
童趣派 儿童学习笔记本|童趣派|1999|11.6英寸防摔外壳的儿童学习笔记本，预装编程启蒙课程。|kids laptop, 11.6 inch, rugged, coding, education

## 乒乓球拍
旋风 三星乒乓球拍|旋风|128|七层纯木底板的三星级横拍成品乒乓球拍，适合业余进阶。|table tennis racket, 3 star, 7-ply wood, shakehand
旋风 六星乒乓球拍|旋风|299|碳素底板配粘性套胶的六星级进攻型乒乓球拍。|table tennis racket, 6 star, carbon, offensive
旋风 直拍乒乓球拍|旋风|159|可直拍横打两用的五层纯木乒乓球拍。|table tennis racket, penhold, 5-ply wood
疾光 专业乒乓球底板|疾光|699|内置芳碳纤维的专业级乒乓球底板，需自行粘贴套胶。|table tennis blade, arylate carbon, professional
小白球 入门乒乓球拍套装|小白球|49.9|两支球拍加三只球的入门乒乓球套装，适合家庭娱乐。|table tennis set, beginner, two rackets, balls
小白球 儿童乒乓球拍|小白球|39|小拍面、短手柄的儿童乒乓球拍，适合5至10岁。|table tennis racket, kids, small, short handle
凌风 削球防守乒乓球拍|凌风|359|正手反胶、反手长胶的削球防守型乒乓球拍。|table tennis racket, defensive, long pips, chopper
凌风 Pro 乒乓球拍|凌风|599|专业队同款的碳素快攻型乒乓球拍。|table tennis racket, pro, carbon, fast attack

## 网球拍
疾光 100 网球拍|疾光|1299|100平方英寸拍面、300克重的全能型网球拍。|tennis racket, 100 sq in, 300g, all-round
疾光 98 网球拍|疾光|1499|98平方英寸拍面的控制型网球拍，适合进阶选手。|tennis racket, 98 sq in, control, advanced
网王 入门网球拍|网王|299|铝碳一体的入门网球拍，附带回弹网球训练器。|tennis racket, beginner, aluminum, trainer
网王 青少年网球拍 25寸|网王|259|25英寸长度的青少年网球拍，适合9至10岁儿童。|tennis racket, junior, 25 inch, kids
网王 大拍面网球拍|网王|499|110平方英寸超大拍面的轻量网球拍，甜区大适合中老年人。|tennis racket, oversize, 110 sq in, lightweight, seniors
锐羽 Pro 网球拍|锐羽|1899|305克全碳素职业网球拍，适合底线重上旋打法。|tennis racket, pro, 305g, topspin
飞羽 沙滩网球拍|飞羽|199|碳纤维材质的沙滩网球拍，适合海边娱乐。|beach tennis racket, carbon, beach
网王 双人网球拍套装|网王|399|两支网球拍配三只网球与拍包的双人套装。|tennis racket, set, two rackets, balls, bag

## 登山杖
野径大师 碳素登山杖|野径大师|399|碳纤维材质的三节折叠登山杖，单支仅重180克。|trekking pole, carbon fiber, foldable, lightweight
峰景 铝合金登山杖|峰景|129|外锁快调的铝合金伸缩登山杖，适合日常郊游。|trekking pole, aluminum, adjustable, flick lock
峰景 越野跑折叠杖|峰景|299|五节Z型折叠的越野跑手杖，收纳长度仅36厘米。|trail running pole, z-fold, compact
山影 登山杖两支装|山影|169|防滑EVA握把的登山杖两支装，附带雪托和泥托。|trekking poles, pair, eva grip, baskets
山影 老人助行登山杖|山影|89|T型手柄带LED照明灯的老人助行登山杖。|walking stick, elderly, t handle, led
行者 减震登山杖|行者|199|内置弹簧减震的直柄登山杖，缓解下山时膝盖压力。|trekking pole, shock absorbing, knee
行者 天幕两用登山杖|行者|239|可兼作天幕撑杆的加粗铝合金登山杖。|trekking pole, tarp pole, dual use
云栖 儿童登山杖|云栖|79|可调节高度的轻量儿童登山杖，适合亲子徒步。|trekking pole, kids, adjustable

## 睡袋
峰景 零下10度羽绒睡袋|峰景|1299|90%白鹅绒填充的木乃伊型羽绒睡袋，舒适温度零下10度。|sleeping bag, down, mummy, -10c
峰景 夏季轻薄睡袋|峰景|199|仅重600克的信封式夏季睡袋，可当空调被使用。|sleeping bag, summer, envelope, lightweight
野营家 双人信封睡袋|野营家|299|可拼接的双人信封式棉睡袋，适合情侣露营。|sleeping bag, double, envelope, camping
野营家 儿童睡袋|野营家|149|卡通图案的儿童露营睡袋，适合身高140厘米以下儿童，可整体机洗。|sleeping bag, kids, cartoon, camping
山野 加厚棉睡袋|山野|249|中空棉填充的加厚睡袋，适合零度左右的冬季露营。|sleeping bag, synthetic, winter, 0c
山野 睡袋内胆|山野|79|冰丝材质的睡袋内胆，出差住宿时保持卫生。|sleeping bag liner, hygiene, travel
云栖 可穿戴睡袋|云栖|399|带袖子、可穿着行走的人形睡袋，适合营地夜晚。|wearable sleeping bag, sleeves, camping
峰景 极寒羽绒睡袋|峰景|2999|适用于零下30度高海拔攀登的极寒羽绒睡袋。|sleeping bag, extreme cold, -30c, expedition

## 行车记录仪
远见 4K 行车记录仪|远见|599|4K超清前后双录行车记录仪，内置GPS记录行驶轨迹。|dash cam, 4k, front and rear, gps
远见 隐藏式行车记录仪|远见|399|安装在后视镜后方的隐藏式行车记录仪，支持Wi-Fi导出视频。|dash cam, hidden, wi-fi
驰行 流媒体后视镜记录仪|驰行|699|11.26英寸流媒体后视镜一体式行车记录仪。|streaming mirror, dash cam, rearview
驰行 360度全景行车记录仪|驰行|899|四路摄像头覆盖车身360度全景的行车记录仪。|dash cam, 360 degree, four channel
途安 入门行车记录仪|途安|169|1080p夜视入门行车记录仪，支持循环录影。|dash cam, 1080p, night vision, budget
途安 停车监控记录仪|途安|459|降压线供电、支持24小时停车监控的行车记录仪。|dash cam, parking mode, 24-hour
视界 2K 智能行车记录仪|视界|349|支持语音声控拍照的2K智能行车记录仪。|dash cam, 2k, voice control
车友 摩托车行车记录仪|车友|499|防水双镜头的摩托车专用行车记录仪。|motorcycle dash cam, waterproof, dual lens

## 扫地机器人
洁家 扫拖一体机器人|洁家|2299|激光导航的扫拖一体机器人，支持自动集尘。|robot vacuum, mop, lidar, auto empty
洁家 入门扫地机器人|洁家|799|陀螺仪导航的入门扫地机器人，适合小户型。|robot vacuum, gyro, budget, small home
洁家 Pro 全能基站扫地机器人|洁家|4999|可自动洗拖布、热风烘干与上下水的全能基站扫拖机器人。|robot vacuum, all-in-one station, mop washing, pro
清风 X4 扫地机器人|清风|1999|可AI识别避开宠物粪便与电线的扫地机器人。|robot vacuum, ai obstacle avoidance, pet
智扫 超薄扫地机器人|智扫|1499|机身仅7.9厘米高的超薄扫地机器人，可钻入沙发底部。|robot vacuum, ultra-slim, under furniture
智扫 宠物家庭扫地机器人|智扫|2599|防缠毛滚刷与大尘盒设计的宠物家庭扫地机器人。|robot vacuum, pet hair, anti-tangle
智扫 机械臂扫地机器人|智扫|5999|带伸缩机械臂、可捡拾袜子等杂物的旗舰扫地机器人。|robot vacuum, robotic arm, flagship
洁家 大户型扫地机器人|洁家|3299|续航240分钟的扫地机器人，适合200平方米以上的大户型住宅。|robot vacuum, long battery, large home
"""


def parse():
    rows = []
    category = None
    for line in SOURCE.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("## "):
            category = line[3:].strip()
            continue
        name, brand, price, desc, tags = [p.strip() for p in line.split("|")]
        rows.append((name, brand, category, price, desc, tags))
    return rows


def main():
    rows = parse()
    out = pathlib.Path(__file__).resolve().parent.parent / "catalog.csv"
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "brand", "category", "price", "description", "tags"])
        for i, r in enumerate(rows, 1):
            w.writerow([f"P{i:04d}", *r])
    print(f"wrote {len(rows)} rows to {out}")


if __name__ == "__main__":
    main()
